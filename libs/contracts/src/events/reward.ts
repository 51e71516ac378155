import { z } from 'zod';
import { defineEvent } from '../define-event';
import { finite, numberMap, step } from '../common';

export const RewardScored = defineEvent({
  type: 'reward.scored',
  version: 1,
  owner: 'reward',
  description: 'A reward service scored one rollout under its reward id and version.',
  payload: z.strictObject({
    rolloutId: z.string().min(1),
    step,
    rewardId: z.string().min(1),
    rewardVersion: z.string().min(1),
    total: finite,
    components: numberMap,
    details: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()])).optional(),
  }),
});

export const RescoreRequested = defineEvent({
  type: 'rescore.requested',
  version: 1,
  owner: 'api',
  description:
    "Opens a derived stream: every recorded rollout of the source run scored again with another reward, without regenerating anything. The stream's reward.scored events follow.",
  payload: z.strictObject({
    sourceRunId: z.string().min(1),
    rewardId: z.string().min(1),
    rewardVersion: z.string().min(1),
    requestedBy: z.string().min(1),
    rollouts: z.number().int().nonnegative(),
  }),
});

/** The stream every reward service registers on when it starts. */
export const REWARD_REGISTRY_STREAM = 'reward-services';

export const RewardServiceRegistered = defineEvent({
  type: 'reward.service.registered',
  version: 1,
  owner: 'reward',
  description:
    "A reward service started and scores rollouts under this reward id and version; appended to the stream 'reward-services'. Training starts GRPO only once every reward a run names has registered.",
  payload: z.strictObject({
    rewardId: z.string().min(1),
    rewardVersion: z.string().min(1),
    /** sha-256 of the canonical JSON of the reward's resolved config (empty object when it has none). */
    configHash: z.string().regex(/^[0-9a-f]{64}$/),
    instance: z.string().min(1),
  }),
});

export const RewardFailed = defineEvent({
  type: 'reward.failed',
  version: 1,
  owner: 'reward',
  description:
    'A reward service could not score a rollout (its score function threw). Training fails the run naming the reward, instead of waiting for a score that will not come.',
  payload: z.strictObject({
    rolloutId: z.string().min(1),
    step,
    rewardId: z.string().min(1),
    rewardVersion: z.string().min(1),
    error: z.string().min(1),
  }),
});

export const rewardEvents = [RewardScored, RescoreRequested, RewardServiceRegistered, RewardFailed] as const;
