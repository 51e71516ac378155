import { z } from 'zod';
import { defineEvent } from '../define-event';
import { completionText, finite, storedText } from '../common';

export const EvaluationItemScored = defineEvent({
  type: 'evaluation.item.scored',
  version: 1,
  owner: 'evaluation',
  description: 'One benchmark item answered by a policy at a stage and graded.',
  payload: z.strictObject({
    suite: z.string().min(1),
    stage: z.string().min(1),
    itemId: z.string().min(1),
    category: z.string().min(1),
    completion: completionText,
    parsedAnswer: storedText.nullable(),
    gold: z.string(),
    correct: z.boolean(),
    score: finite.optional(),
  }),
});

export const EvaluationCompleted = defineEvent({
  type: 'evaluation.completed',
  version: 1,
  owner: 'evaluation',
  description: 'Every suite of one stage was evaluated; headline numbers per suite and category.',
  payload: z.strictObject({
    stage: z.string().min(1),
    checkpointHash: z.string().min(1),
    results: z.record(z.string(), finite),
  }),
});

export const evaluationEvents = [EvaluationItemScored, EvaluationCompleted] as const;
