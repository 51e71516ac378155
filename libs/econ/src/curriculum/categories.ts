import { backwardInduction } from './generators/backward-induction';
import { bayesNashProblem } from './generators/bayes-nash';
import { condorcetProblem } from './generators/condorcet';
import { discountingProblem } from './generators/discounting';
import { dominantStrategy } from './generators/dominant-strategy';
import { expectedValueProblem } from './generators/expected-value';
import { pureNash } from './generators/pure-nash';
import { trigger } from './generators/trigger';
import type { ProblemGenerator } from './problem';

/** The generated categories, each with its solver-backed generator. */
export const CURRICULUM_CATEGORIES = {
  pure_nash: pureNash,
  dominant_strategy: dominantStrategy,
  backward_induction: backwardInduction,
  trigger,
  expected_value: expectedValueProblem,
  discounting: discountingProblem,
  condorcet: condorcetProblem,
  bayes_nash: bayesNashProblem,
} as const satisfies Record<string, ProblemGenerator>;

export type CurriculumCategory = keyof typeof CURRICULUM_CATEGORIES;

export const CURRICULUM_CATEGORY_NAMES = Object.keys(CURRICULUM_CATEGORIES) as CurriculumCategory[];
