import { deciderAt, sequentialPrompt, type GameTree, type SequentialGame } from '@recon/games';
import type { Rng } from '../rng';
import type { ProblemGenerator } from '../problem';
import { resemblesEvaluationTree } from './game-format';

/** Backward-induction value of a subtree and the choice at its root, or null on a tie anywhere below. */
interface Solved {
  rewards: readonly [number, number];
  choice: number | null;
}

function solve(node: GameTree, depth: number): Solved | null {
  if (node.kind === 'leaf') return { rewards: node.rewards, choice: null };
  const children = node.children.map((c) => solve(c, depth + 1));
  if (children[0] === null || children[1] === null) return null;
  const who = deciderAt(depth) === 'Alice' ? 0 : 1;
  const [first, second] = [children[0].rewards[who], children[1].rewards[who]];
  if (first === second) return null;
  const choice = first > second ? 1 : 2;
  return { rewards: children[choice - 1]!.rewards, choice };
}

/**
 * A binary tree as the evaluation's: Alice at depths 1 and 3, Bob at depth 2, at least one Bob node, so
 * depth 2 or 3 like the five evaluation trees.
 */
function drawTree(rng: Rng, lo: number, hi: number): GameTree {
  const leaf = (): GameTree => ({ kind: 'leaf', rewards: [rng.int(lo, hi), rng.int(lo, hi)] });
  const node = (depth: number): GameTree => {
    if (depth === 3 || (depth > 0 && rng.next() < (depth === 1 ? 0.3 : 0.5))) return leaf();
    return { kind: 'decision', player: deciderAt(depth), children: [node(depth + 1), node(depth + 1)] };
  };
  for (;;) {
    const tree = node(0);
    if (tree.kind === 'decision' && tree.children.some((c) => c.kind === 'decision')) return tree;
  }
}

/** Every decision node with the choices that lead to it, root first (pre-order). */
function decisionPaths(tree: GameTree, path: number[] = []): Array<{ node: GameTree; path: number[] }> {
  if (tree.kind === 'leaf') return [];
  return [{ node: tree, path }, ...tree.children.flatMap((c, k) => decisionPaths(c, [...path, k + 1]))];
}

/**
 * Backward induction as short steps, deepest nodes first: `<path>: <x> or <y>, <choice> (<Alice>,<Bob>).`,
 * x and y being what the decider gets after each choice (copied from the rules or an earlier step).
 */
function traceSteps(node: GameTree, path: number[]): string[] {
  if (node.kind === 'leaf') return [];
  const below = node.children.flatMap((c, k) => traceSteps(c, [...path, k + 1]));
  const solved = solve(node, path.length)!;
  const who = deciderAt(path.length) === 'Alice' ? 0 : 1;
  const [x, y] = node.children.map((c) => solve(c, path.length + 1)!.rewards[who]);
  const at = path.length > 0 ? path.join('') : 'Start';
  return [...below, `${at}: ${x} or ${y}, ${solved.choice} (${solved.rewards.join(',')}).`];
}

/**
 * A generated sequential game asked exactly as the evaluation asks it (`sequentialPrompt`) at one of its
 * decision nodes, with the moves that lead there (on or off the subgame-perfect path). Trees with a tie at
 * any decision node are redrawn, as the evaluation trees have none. The gold is the subgame-perfect choice
 * at the asked node; the trace solves the asked node's subtree bottom-up.
 */
export const sequentialGameMove: ProblemGenerator = (rng, inSplit) => {
  const lo = rng.pick([-5, -2, 0]);
  const hi = lo + rng.pick([6, 9, 12]);
  const tree = drawTree(rng, lo, hi);
  const family = `game_sequential|${JSON.stringify(tree)}`;
  if (!inSplit(family)) return null;
  if (resemblesEvaluationTree(tree) || solve(tree, 0) === null) return null;
  const { node, path } = rng.pick(decisionPaths(tree));
  const game: SequentialGame = { name: 'generated', kind: 'sequential', tree };
  const messages = sequentialPrompt(game, path);
  const rendering = { question: messages[messages.length - 1].content, steps: traceSteps(node, path) };
  return {
    key: `${family}|${path.join('')}`,
    family,
    full: rendering,
    compact: rendering,
    answer: { kind: 'move', choice: solve(node, path.length)!.choice! },
    messages,
  };
};
