import { backwardInduction } from './generators/backward-induction';
import { bayesNashProblem } from './generators/bayes-nash';
import { condorcetProblem } from './generators/condorcet';
import { discountingProblem } from './generators/discounting';
import { dominantStrategy } from './generators/dominant-strategy';
import { expectedValueProblem } from './generators/expected-value';
import { sequentialGameMove } from './generators/game-sequential';
import { simultaneousGameMove } from './generators/game-simultaneous';
import { pureNash } from './generators/pure-nash';
import { trigger } from './generators/trigger';
import type { ProblemGenerator } from './problem';

/** The econ problem categories: what a curriculum holds when it names no categories. */
const ECON_CATEGORIES = {
  pure_nash: pureNash,
  dominant_strategy: dominantStrategy,
  backward_induction: backwardInduction,
  trigger,
  expected_value: expectedValueProblem,
  discounting: discountingProblem,
  condorcet: condorcetProblem,
  bayes_nash: bayesNashProblem,
} as const satisfies Record<string, ProblemGenerator>;

/**
 * Game-format categories: generated games asked in the complete-information evaluation's exact chat and
 * answered `<s>choice_k</s>`. Only requested by name (or through `datasets.curriculum.gameTrainItems`).
 */
export const GAME_CURRICULUM_CATEGORIES = {
  game_simultaneous: simultaneousGameMove,
  game_sequential: sequentialGameMove,
} as const satisfies Record<string, ProblemGenerator>;

/** Every generated category, each with its solver-backed generator. */
export const CURRICULUM_CATEGORIES = { ...ECON_CATEGORIES, ...GAME_CURRICULUM_CATEGORIES } as const;

export type CurriculumCategory = keyof typeof CURRICULUM_CATEGORIES;

/** The default categories (the econ problems); game-format categories are opt-in. */
export const CURRICULUM_CATEGORY_NAMES = Object.keys(ECON_CATEGORIES) as CurriculumCategory[];

export const GAME_CURRICULUM_CATEGORY_NAMES = Object.keys(GAME_CURRICULUM_CATEGORIES) as CurriculumCategory[];
