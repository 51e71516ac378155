import { z } from 'zod';
import { defineEvent } from '../define-event';
import { completionText, nonNegativeInt, sha256Hex, step } from '../common';

export const RolloutGenerated = defineEvent({
  type: 'rollout.generated',
  version: 1,
  owner: 'rollout',
  description: 'One sampled completion of a prompt, with the seed that drew it.',
  payload: z.strictObject({
    rolloutId: z.string().min(1),
    step,
    promptId: z.string().min(1),
    groupIndex: nonNegativeInt,
    policyVersion: sha256Hex,
    seed: nonNegativeInt,
    completion: completionText,
    completionTokens: nonNegativeInt,
    /** The sampled token ids (built-in policies), so training never re-tokenises decoded text. */
    tokenIds: z.array(nonNegativeInt).optional(),
    truncated: z.boolean(),
    finishReason: z.enum(['stop', 'length', 'eos']),
  }),
});

export const rolloutEvents = [RolloutGenerated] as const;
