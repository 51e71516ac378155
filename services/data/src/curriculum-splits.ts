import {
  CURRICULUM_CATEGORY_NAMES,
  GAME_CURRICULUM_CATEGORY_NAMES,
  generateCurriculum,
  isCurriculumCategory,
  type CurriculumCategory,
  type CurriculumItem,
} from '@recon/econ';
import type { ExperimentConfig } from '@recon/experiment';

export interface CurriculumSplits {
  test: CurriculumItem[];
  /** The SFT rows (their traces) — and GRPO's problems too unless `grpoItems` asks for problems of its own. */
  train: CurriculumItem[];
  grpo: CurriculumItem[];
}

/**
 * A run's generated curriculum: held-out test items, SFT rows, and GRPO problems. With `grpoItems`, GRPO's
 * problems continue each category's draw past the SFT rows (so the SFT rows are the same with or without it,
 * and no GRPO problem is an SFT row); game items split the same way, in gameTrainItems' proportion.
 */
export function curriculumSplits(
  curriculum: NonNullable<ExperimentConfig['datasets']['curriculum']>,
  seed: number,
): CurriculumSplits {
  const unknown = (curriculum.categories ?? []).filter((c) => !isCurriculumCategory(c));
  if (unknown.length > 0)
    throw new Error(`datasets.curriculum.categories: unknown ${unknown.map((c) => `'${c}'`).join(', ')}`);
  const categories = curriculum.categories as CurriculumCategory[] | undefined;
  const categoryCount = (categories ?? CURRICULUM_CATEGORY_NAMES).length;
  // Items per category so that the split holds the configured total (rounded up to a whole round).
  const perCategory = (total: number) => Math.ceil(total / categoryCount);
  const test = generateCurriculum({
    categories,
    split: 'test',
    perCategory: perCategory(curriculum.testItems),
    seed,
  });
  const sftPerCategory = perCategory(curriculum.trainItems);
  const grpoPerCategory = curriculum.grpoItems ? perCategory(curriculum.grpoItems) : 0;
  const drawn = generateCurriculum({
    categories,
    split: 'train',
    perCategory: sftPerCategory + grpoPerCategory,
    seed,
    exclude: new Set(test.map((i) => i.prompt)),
  });
  // Round-robin order: the first sftPerCategory rounds are the SFT rows.
  const train = drawn.slice(0, sftPerCategory * categoryCount);
  const grpoOwn = drawn.slice(sftPerCategory * categoryCount);
  // Categories the run names already are not drawn twice.
  const games = GAME_CURRICULUM_CATEGORY_NAMES.filter((c) => !categories?.includes(c));
  if (curriculum.gameTrainItems && games.length > 0) {
    const sftGames = Math.ceil(curriculum.gameTrainItems / games.length);
    const grpoGames = curriculum.grpoItems
      ? Math.ceil((curriculum.gameTrainItems * curriculum.grpoItems) / curriculum.trainItems / games.length)
      : 0;
    const gameItems = generateCurriculum({
      categories: games,
      split: 'train',
      count: sftGames + grpoGames,
      seed,
    });
    train.push(...gameItems.slice(0, sftGames * games.length));
    grpoOwn.push(...gameItems.slice(sftGames * games.length));
  }
  return { test, train, grpo: curriculum.grpoItems ? grpoOwn : train };
}
