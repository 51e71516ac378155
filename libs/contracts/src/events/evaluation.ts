import { z } from 'zod';
import { defineEvent } from '../define-event';
import { completionText, finite, nonNegativeInt, sha256Hex, storedText } from '../common';

const itemScoredV1 = {
  suite: z.string().min(1),
  stage: z.string().min(1),
  itemId: z.string().min(1),
  category: z.string().min(1),
  completion: completionText,
  parsedAnswer: storedText.nullable(),
  gold: z.string(),
  correct: z.boolean(),
  score: finite.optional(),
};

export const EvaluationItemScored = defineEvent({
  type: 'evaluation.item.scored',
  version: 1,
  owner: 'evaluation',
  description: 'One benchmark item answered by a policy at a stage and graded.',
  payload: z.strictObject(itemScoredV1),
});

export const EvaluationItemScoredV2 = defineEvent({
  type: 'evaluation.item.scored',
  version: 2,
  owner: 'evaluation',
  description:
    "One benchmark item answered by a policy at a stage and graded; `correct` is the suite's headline grader, `verdicts` every grader's: `exact` (the final box states the gold option's text, and its number if it gives one) and `paper` (the paper's grader: first box, a matching option number suffices).",
  payload: z.strictObject({
    ...itemScoredV1,
    verdicts: z.strictObject({ exact: z.boolean(), paper: z.boolean() }),
  }),
});

const evaluationCompletedV1 = {
  stage: z.string().min(1),
  checkpointHash: z.string().min(1),
  results: z.record(z.string(), finite),
};

export const EvaluationCompleted = defineEvent({
  type: 'evaluation.completed',
  version: 1,
  owner: 'evaluation',
  description: 'Every suite of one stage was evaluated; headline numbers per suite and category.',
  payload: z.strictObject(evaluationCompletedV1),
});

/** A fixed answer rule scored on a problem suite's items under both graders (it answers the same at every stage). */
export const answerBaseline = z.strictObject({
  suite: z.string().min(1),
  /** `global-majority`: the most common gold answer text; `category-majority`: the same per category. */
  name: z.enum(['global-majority', 'category-majority']),
  /** The dataset the answers were counted on (the run's training problems), e.g. `curriculum-train (train)`. */
  computedOn: z.string().min(1),
  /** The answer text per category (`*` for every category). */
  answers: z.record(z.string(), storedText),
  items: nonNegativeInt,
  correct: z.strictObject({ exact: nonNegativeInt, paper: nonNegativeInt }),
});

export type AnswerBaseline = z.infer<typeof answerBaseline>;

export const EvaluationCompletedV2 = defineEvent({
  type: 'evaluation.completed',
  version: 2,
  owner: 'evaluation',
  description:
    'Every suite of one stage was evaluated; headline numbers per suite and category, and the answer baselines of the problem suites (counted on the training split, scored on the evaluated items under both graders).',
  payload: z.strictObject({ ...evaluationCompletedV1, baselines: z.array(answerBaseline) }),
});

const graderCounts = z.strictObject({ exact: nonNegativeInt, paper: nonNegativeInt });

/** An answer baseline (v3): also `first-option` (always the first option a prompt lists), and its score per category. */
export const answerBaselineV3 = answerBaseline.extend({
  /** `first-option`: answers the first option each prompt lists (`Option 1` and its text); `answers` is `{}`. */
  name: z.enum(['global-majority', 'category-majority', 'first-option']),
  byCategory: z.record(z.string(), z.strictObject({ items: nonNegativeInt, correct: graderCounts })),
});

export type AnswerBaselineV3 = z.infer<typeof answerBaselineV3>;

/** Which rows of its eval set a problem suite evaluated: all, or a seeded draw stratified by category. */
export const evaluationSample = z.strictObject({
  suite: z.string().min(1),
  dataset: z.strictObject({ name: z.string().min(1), versionHash: sha256Hex }),
  method: z.enum(['all', 'stratified']),
  /** Rows the set holds, rows evaluated, and the seed of the draw (derived from the run's seed). */
  of: nonNegativeInt,
  items: nonNegativeInt,
  seed: nonNegativeInt,
  byCategory: z.record(z.string(), z.strictObject({ sampled: nonNegativeInt, of: nonNegativeInt })),
});

export type EvaluationSample = z.infer<typeof evaluationSample>;

export const EvaluationCompletedV3 = defineEvent({
  type: 'evaluation.completed',
  version: 3,
  owner: 'evaluation',
  description:
    'Every suite of one stage was evaluated; headline numbers per suite and category, the answer baselines of the problem suites scored overall and per category (majority answers counted on the training split; the first option of each prompt), and which rows of each eval set were evaluated (`samples`; absent where not recorded).',
  payload: z.strictObject({
    ...evaluationCompletedV1,
    baselines: z.array(answerBaselineV3),
    samples: z.array(evaluationSample).optional(),
  }),
});

export const evaluationEvents = [
  EvaluationItemScored,
  EvaluationItemScoredV2,
  EvaluationCompleted,
  EvaluationCompletedV2,
  EvaluationCompletedV3,
] as const;
