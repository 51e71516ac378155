import type { Rng } from './rng';

export type CurriculumStyle = 'full' | 'compact';

/** Text of one problem in one style: the question and the solver's reasoning steps. */
export interface Rendering {
  question: string;
  steps: string[];
}

export type ProblemAnswer =
  /** A literal gold such as `[[0, 1]]` or `Yes`; the question states the format. */
  | { kind: 'literal'; value: string }
  /** Multiple choice: option texts per style and the index of the correct one (positions are shuffled later). */
  | { kind: 'choice'; options: Array<{ full: string; compact: string }>; correct: number }
  /** A game move in the evaluation games' format: the gold is `<s>choice_k</s>` (1-based k). */
  | { kind: 'move'; choice: number };

/** One turn of the chat a game-format problem is asked in (the evaluation games' system and user turns). */
export interface ProblemMessage {
  role: 'system' | 'user';
  content: string;
}

/** One generated problem before rendering. Option texts must not contain braces (the paper's box regex stops at `}`). */
export interface Problem {
  /** Canonical facts: two problems with the same key are the same item. */
  key: string;
  /**
   * The underlying game when several questions are asked about it (defaults to the key). The family alone
   * decides the split, so no game appears in both train and test, whatever is asked about it.
   */
  family?: string;
  full: Rendering;
  compact: Rendering;
  answer: ProblemAnswer;
  /**
   * The exact chat the problem is asked in, when it is not one user turn holding the question (game-format
   * problems: the evaluation prompts' system and user turns). Both styles use it unchanged.
   */
  messages?: readonly ProblemMessage[];
}

/**
 * Draws one problem, or null when the draw must be rejected (a tie, an unwanted answer, another split's family);
 * the caller draws again. `inSplit(family)` is asked as soon as the facts are drawn, before any solving, so the
 * held-out split costs little; the family passed must be the problem's `family ?? key`.
 */
export type ProblemGenerator = (rng: Rng, inSplit: (family: string) => boolean) => Problem | null;

/** `[[i, j], ...]`, the shape of the paper's pure-Nash golds. */
export const cellList = (cells: ReadonlyArray<readonly [number, number]>) => `[${cells.map(([i, j]) => `[${i}, ${j}]`).join(', ')}]`;

/** `[[1,2],[3,4]]` without spaces, for compact prompts. */
export const tightMatrix = (m: number[][]) => `[${m.map((line) => `[${line.join(',')}]`).join(',')}]`;

/** `[[1, 2], [3, 4]]` as Python prints it, for full prompts. */
export const pyMatrix = (m: number[][]) => `[${m.map((line) => `[${line.join(', ')}]`).join(', ')}]`;

/** Rounds for display without float noise (0.1 + 0.2 -> 0.3). */
export const fmt = (x: number, digits = 2) => String(Number(x.toFixed(digits)));
