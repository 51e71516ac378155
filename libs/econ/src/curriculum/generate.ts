import { CURRICULUM_CATEGORIES, CURRICULUM_CATEGORY_NAMES, type CurriculumCategory } from './categories';
import type { CurriculumStyle, ProblemMessage } from './problem';
import { renderProblem } from './render';
import { drawSeed, fnv1a, Rng, seedFor } from './rng';

export type CurriculumSplit = 'train' | 'test';

export interface CurriculumItem {
  id: string;
  category: CurriculumCategory;
  split: CurriculumSplit;
  style: CurriculumStyle;
  prompt: string;
  /** Gold as the graders read it: `Option N: text`, `Yes`/`No`, or a pure-Nash list `[[i, j]]`. */
  answer: string;
  /** Solver-written reasoning in the paper's contract: `<think>...</think>` then `\boxed{answer}` (game moves: `<s>choice_k</s>`). */
  trace: string;
  /** The chat the prompt is asked in when it is not one user turn: game-format items carry the evaluation's system turn. */
  messages?: ProblemMessage[];
}

export type CurriculumRequest = {
  categories?: readonly string[];
  split: CurriculumSplit;
  seed: number;
  /** `compact` (default) is short enough for the built-in policy; `full` reads like the Recon prompts. */
  style?: CurriculumStyle;
  /** Prompts that must not appear (kept for callers that pass the other split's prompts; splits are disjoint anyway). */
  exclude?: ReadonlySet<string>;
} & ({ /** Items per category. */ count: number; perCategory?: never } | { /** @deprecated use count */ perCategory: number; count?: never });

/** One problem family in TEST_SHARE goes to test (by hash of the family), the rest to train. */
export const TEST_SHARE = 5;

/** The split a problem family belongs to: fixed by its content, never by the seed that drew it. */
export function splitOfFamily(family: string): CurriculumSplit {
  return fnv1a(family) % TEST_SHARE === 0 ? 'test' : 'train';
}

export function isCurriculumCategory(name: string): name is CurriculumCategory {
  return Object.prototype.hasOwnProperty.call(CURRICULUM_CATEGORIES, name);
}

/**
 * Seeded, deterministic curriculum. Each draw has its own stream (a sha256 of seed, split and category, mixed
 * with the draw's index); a draw is kept when its problem family hashes into the requested split and its key is
 * new, so train and test never share a problem (or any question about the same game) whatever the seeds. Gold
 * and trace come from the solvers. Items come round-robin by category, `count` of each.
 */
export function generateCurriculum(request: CurriculumRequest): CurriculumItem[] {
  const count = (request.count ?? request.perCategory) as number;
  if (!Number.isInteger(count) || count < 0) throw new Error(`curriculum: count must be a non-negative integer, got ${count}`);
  const style = request.style ?? 'compact';
  if (style !== 'full' && style !== 'compact') throw new Error(`curriculum: style must be 'full' or 'compact', got '${style}'`);
  if (request.split !== 'train' && request.split !== 'test') throw new Error(`curriculum: split must be 'train' or 'test', got '${request.split}'`);
  const categories = request.categories ?? CURRICULUM_CATEGORY_NAMES;
  const unknown = categories.filter((c) => !isCurriculumCategory(c));
  if (unknown.length > 0) throw new Error(`curriculum: unknown categor${unknown.length > 1 ? 'ies' : 'y'} ${unknown.map((c) => `'${c}'`).join(', ')} (known: ${Object.keys(CURRICULUM_CATEGORIES).join(', ')})`);
  const perCategory: CurriculumItem[][] = [];
  for (const category of categories as CurriculumCategory[]) {
    const items: CurriculumItem[] = [];
    perCategory.push(items);
    const generator = CURRICULUM_CATEGORIES[category];
    const seen = new Set<string>();
    const limit = Math.max(1000, count * 400);
    const base = seedFor(request.seed, request.split, category);
    for (let attempt = 0, made = 0; made < count; attempt++) {
      if (attempt >= limit) throw new Error(`curriculum: found only ${made} of ${count} distinct ${request.split} ${category} items in ${limit} draws`);
      const rng = new Rng(drawSeed(base, attempt));
      const problem = generator(rng, (family) => splitOfFamily(family) === request.split);
      if (!problem || seen.has(problem.key) || splitOfFamily(problem.family ?? problem.key) !== request.split) continue;
      const rendered = renderProblem(problem, style, rng);
      if (request.exclude?.has(rendered.prompt)) continue;
      seen.add(problem.key);
      items.push({ id: `${request.split}/${style}/${category}/${made}`, category, split: request.split, style, ...rendered });
      made++;
    }
  }
  // Round-robin over categories, so any prefix of the list (an evaluation budget) covers every category evenly.
  return Array.from({ length: count }, (_, k) => perCategory.map((items) => items[k])).flat();
}
