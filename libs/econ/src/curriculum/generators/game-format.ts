import { SEQUENTIAL_GAMES, SIMULTANEOUS_GAMES, type GameTree } from '@recon/games';
import type { Rng } from '../rng';

/** A bimatrix as the evaluation games hold it: payoffs[row][column] = [Alice's reward, Bob's reward]. */
export type Bimatrix = ReadonlyArray<ReadonlyArray<readonly [number, number]>>;

/** The matrix from one player's side: rows are its own choices, each cell [own reward, other's reward]. */
export function sideView(payoffs: Bimatrix, player: 'Alice' | 'Bob'): Array<Array<[number, number]>> {
  if (player === 'Alice') return payoffs.map((row) => row.map(([a, b]) => [a, b] as [number, number]));
  return payoffs[0].map((_, j) => payoffs.map((row) => [row[j][1], row[j][0]] as [number, number]));
}

/**
 * The sorted multiset of cells, read from Alice's and from Bob's side. Relabelling rows or columns,
 * transposing, or asking as the other player all keep it, so a game whose signature differs from every
 * evaluation game's is none of them in any of those disguises.
 */
export function matrixSignatures(payoffs: Bimatrix): string[] {
  const cells = (view: Array<Array<[number, number]>>) =>
    view
      .flat()
      .map(([a, b]) => `${a},${b}`)
      .sort()
      .join(' ');
  const shape = (view: unknown[][]) => `${view.length}x${view[0].length}`;
  const alice = sideView(payoffs, 'Alice');
  const bob = sideView(payoffs, 'Bob');
  return [`${shape(alice)}|${cells(alice)}`, `${shape(bob)}|${cells(bob)}`];
}

const EVALUATION_MATRIX_SIGNATURES = new Set(SIMULTANEOUS_GAMES.flatMap((g) => matrixSignatures(g.payoffs)));

/** Whether a generated matrix could be an evaluation game (same cells up to relabelling, transposition or side). */
export function resemblesEvaluationMatrix(payoffs: Bimatrix): boolean {
  return matrixSignatures(payoffs).some((s) => EVALUATION_MATRIX_SIGNATURES.has(s));
}

/**
 * A tree up to relabelling the two choices at any node, with rewards read as given and with the players'
 * rewards swapped: equal signatures mean the same game whatever the labels or the side it is read from.
 */
export function treeSignatures(tree: GameTree): string[] {
  const canonical = (node: GameTree, swap: boolean): string => {
    if (node.kind === 'leaf') {
      const [a, b] = node.rewards;
      return swap ? `(${b},${a})` : `(${a},${b})`;
    }
    const children = node.children.map((c) => canonical(c, swap)).sort();
    return `[${children.join(' ')}]`;
  };
  return [canonical(tree, false), canonical(tree, true)];
}

const EVALUATION_TREE_SIGNATURES = new Set(SEQUENTIAL_GAMES.flatMap((g) => treeSignatures(g.tree)));

/** Whether a generated tree could be an evaluation game (same tree up to labels, or with the rewards swapped). */
export function resemblesEvaluationTree(tree: GameTree): boolean {
  return treeSignatures(tree).some((s) => EVALUATION_TREE_SIGNATURES.has(s));
}

/** `count` distinct integers from [lo, hi] in random order (count <= hi - lo + 1). */
export function distinctInts(rng: Rng, count: number, lo: number, hi: number): number[] {
  const pool = Array.from({ length: hi - lo + 1 }, (_, k) => lo + k);
  return rng.permutation(pool.length).slice(0, count).map((k) => pool[k]);
}
