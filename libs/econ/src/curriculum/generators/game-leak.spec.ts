import {
  SEQUENTIAL_GAMES,
  SIMULTANEOUS_GAMES,
  backwardInduction,
  parseChoice,
  pureNashEquilibria,
  sequentialPrompt,
  simultaneousPrompt,
  type GameTree,
} from '@recon/games';
import { generateCurriculum, type CurriculumItem } from '../generate';
import { resemblesEvaluationMatrix, resemblesEvaluationTree } from './game-format';

/**
 * The game-format items must never show an evaluation game. The check reads the games back from the prompt
 * text the policy is trained on (not from the generator's own data) and compares them with every disguise of
 * the ten evaluation games: rows and columns relabelled, the matrix transposed, the rewards read from Bob's
 * side; for trees, the two choices swapped at any node and the rewards swapped.
 */

type Cell = readonly [number, number];
type Matrix = Cell[][];

const SIMULTANEOUS_LINE = /^If you choose choice_(\d+) and (?:Alice|Bob) chooses choice_(\d+), you get (-?\d+) and (?:Alice|Bob) gets (-?\d+)\.$/;
const SEQUENTIAL_LINE = /^((?:(?:Alice|Bob) chooses choice_\d, )*(?:Alice|Bob) chooses choice_\d): the game ends; Alice gets (-?\d+) and Bob gets (-?\d+)\.$/;

/** The matrix a simultaneous prompt states, from the asked player's side: m[own][other] = [own, other's]. */
function statedMatrix(prompt: string): Matrix {
  const m: Matrix = [];
  for (const line of prompt.split('\n')) {
    const match = SIMULTANEOUS_LINE.exec(line);
    if (!match) continue;
    const [i, j, own, other] = match.slice(1).map(Number);
    (m[i - 1] ??= [])[j - 1] = [own, other];
  }
  return m;
}

/** The tree a sequential prompt states. */
function statedTree(prompt: string): GameTree {
  type Node = { leaf?: Cell; children: Node[] };
  const root: Node = { children: [] };
  for (const line of prompt.split('\n')) {
    const match = SEQUENTIAL_LINE.exec(line);
    if (!match) continue;
    let node = root;
    for (const step of match[1].split(', ')) {
      const k = Number(step.slice(-1)) - 1;
      node = node.children[k] ??= { children: [] };
    }
    node.leaf = [Number(match[2]), Number(match[3])];
  }
  const build = (node: Node, depth: number): GameTree =>
    node.leaf
      ? { kind: 'leaf', rewards: node.leaf }
      : { kind: 'decision', player: depth % 2 === 0 ? 'Alice' : 'Bob', children: [build(node.children[0], depth + 1), build(node.children[1], depth + 1)] };
  return build(root, 0);
}

const transpose = (m: Matrix): Matrix => m[0].map((_, j) => m.map((row) => row[j]));
const swapRewards = (m: Matrix): Matrix => m.map((row) => row.map(([a, b]) => [b, a] as Cell));

function permutations(n: number): number[][] {
  if (n === 0) return [[]];
  return permutations(n - 1).flatMap((p) => Array.from({ length: n }, (_, k) => [...p.slice(0, k), n - 1, ...p.slice(k)]));
}

/** Whether b is a with its rows and columns relabelled (rows tried exhaustively, columns compared as a multiset). */
function sameUpToRelabelling(a: Matrix, b: Matrix): boolean {
  if (a.length !== b.length || a[0].length !== b[0].length) return false;
  const columns = (m: Matrix) => m[0].map((_, j) => m.map((row) => row[j].join(',')).join(';')).sort().join('|');
  const target = columns(b);
  return permutations(a.length).some((p) => columns(p.map((i) => a[i])) === target);
}

/** Every way an evaluation matrix could be shown: as it is, transposed, with swapped rewards, or both. */
const EVALUATION_MATRICES: Matrix[] = SIMULTANEOUS_GAMES.flatMap((g) => {
  const m = g.payoffs.map((row) => row.map((cell) => [cell[0], cell[1]] as Cell));
  return [m, transpose(m), swapRewards(m), transpose(swapRewards(m))];
});

function treeForm(tree: GameTree, swap: boolean): string {
  if (tree.kind === 'leaf') return swap ? `(${tree.rewards[1]},${tree.rewards[0]})` : `(${tree.rewards.join(',')})`;
  return `[${tree.children.map((c) => treeForm(c, swap)).sort().join(' ')}]`;
}

const EVALUATION_TREES = new Set(SEQUENTIAL_GAMES.flatMap((g) => [treeForm(g.tree, false), treeForm(g.tree, true)]));

const items = (category: string, split: 'train' | 'test'): CurriculumItem[] =>
  generateCurriculum({ categories: [category], split, count: 1500, seed: 7 });

const chosen = (item: CurriculumItem) => {
  const parsed = parseChoice(item.trace, 6);
  if (!parsed.ok) throw new Error(`gold trace does not parse: ${parsed.reason}`);
  return parsed.choice;
};

describe('game-format curriculum: no evaluation game leaks into training', () => {
  it('the check itself recognises every evaluation game in every disguise', () => {
    for (const game of SIMULTANEOUS_GAMES)
      for (const player of ['Alice', 'Bob'] as const) {
        const shown = statedMatrix(simultaneousPrompt(game, player)[1].content);
        expect(EVALUATION_MATRICES.some((m) => sameUpToRelabelling(m, shown))).toBe(true);
        const relabelled = [...shown].reverse().map((row) => [...row].reverse());
        expect(EVALUATION_MATRICES.some((m) => sameUpToRelabelling(m, relabelled))).toBe(true);
      }
    for (const game of SEQUENTIAL_GAMES) {
      const shown = statedTree(sequentialPrompt(game, [])[1].content);
      expect(EVALUATION_TREES.has(treeForm(shown, false))).toBe(true);
    }
  });

  it("the generators' own guard rejects every disguise of an evaluation game", () => {
    for (const m of EVALUATION_MATRICES) {
      expect(resemblesEvaluationMatrix(m)).toBe(true);
      expect(resemblesEvaluationMatrix([...m].reverse())).toBe(true);
    }
    expect(resemblesEvaluationMatrix([[[3, 3], [0, 5]], [[5, 0], [2, 1]]])).toBe(false);
    const mirror = (t: GameTree): GameTree =>
      t.kind === 'leaf' ? { kind: 'leaf', rewards: [t.rewards[1], t.rewards[0]] } : { ...t, children: [mirror(t.children[1]), mirror(t.children[0])] };
    for (const game of SEQUENTIAL_GAMES) {
      expect(resemblesEvaluationTree(game.tree)).toBe(true);
      expect(resemblesEvaluationTree(mirror(game.tree))).toBe(true);
    }
  });

  it.each(['train', 'test'] as const)('no simultaneous %s item states an evaluation matrix', (split) => {
    for (const item of items('game_simultaneous', split)) {
      const shown = statedMatrix(item.prompt);
      expect(shown.length).toBeGreaterThanOrEqual(2);
      const leaked = EVALUATION_MATRICES.some((m) => sameUpToRelabelling(m, shown));
      if (leaked) throw new Error(`evaluation game in ${item.id}:\n${item.prompt}`);
    }
  });

  it.each(['train', 'test'] as const)('no sequential %s item states an evaluation tree', (split) => {
    for (const item of items('game_sequential', split)) {
      const shown = statedTree(item.prompt);
      if (EVALUATION_TREES.has(treeForm(shown, false)) || EVALUATION_TREES.has(treeForm(shown, true)))
        throw new Error(`evaluation game in ${item.id}:\n${item.prompt}`);
    }
  });
});

/** The bimatrix a compact pure-Nash prompt states (`P0 by col: c0 4,1; … P1 by row: r0 1,5,8; …`). */
function pureNashMatrix(prompt: string): Matrix {
  const groups = (label: string) =>
    new RegExp(`${label}: ([^.]*)\\.`).exec(prompt)![1].split('; ').map((g) => g.split(' ')[1].split(',').map(Number));
  const p0ByColumn = groups('P0 by col');
  const p1ByRow = groups('P1 by row');
  return p1ByRow.map((line, i) => line.map((p1, j) => [p0ByColumn[j][i], p1] as Cell));
}

describe('econ curriculum: no evaluation game leaks through the bimatrix problems', () => {
  it.each(['train', 'test'] as const)('no pure_nash %s item states an evaluation matrix', (split) => {
    for (const item of items('pure_nash', split)) {
      const shown = pureNashMatrix(item.prompt);
      expect(shown.length).toBeGreaterThanOrEqual(2);
      if (EVALUATION_MATRICES.some((m) => sameUpToRelabelling(m, shown)))
        throw new Error(`evaluation game in ${item.id}:\n${item.prompt}`);
    }
  });

  it('the pure_nash reader recovers the matrix the prompt states', () => {
    const prompt = 'Pure NE? P0 by col: c0 4,1; c1 4,6. P1 by row: r0 1,5; r1 4,0. Answer [[row,col],...] or [].';
    expect(pureNashMatrix(prompt)).toEqual([
      [[4, 1], [4, 5]],
      [[1, 4], [6, 0]],
    ]);
  });
});

describe('game-format curriculum: items are the evaluation chat with a solver gold', () => {
  const system = simultaneousPrompt(SIMULTANEOUS_GAMES[0], 'Alice')[0];

  it('simultaneous items answer the asked player part of a pure equilibrium', () => {
    for (const item of items('game_simultaneous', 'train').slice(0, 500)) {
      expect(item.messages).toEqual([system, { role: 'user', content: item.prompt }]);
      expect(item.trace).toMatch(/^<think>[^<]*<\/think>\n<s>choice_\d<\/s>$/);
      expect(item.trace.endsWith(item.answer)).toBe(true);
      const equilibria = pureNashEquilibria(statedMatrix(item.prompt));
      expect(equilibria.some(([i]) => i === chosen(item) - 1)).toBe(true);
    }
  });

  it('sequential items answer the subgame-perfect choice at the asked node', () => {
    for (const item of items('game_sequential', 'train').slice(0, 500)) {
      expect(item.messages?.[0]).toEqual(system);
      const moves = /Moves so far in this game: (.*)\.$/m.exec(item.prompt)?.[1];
      const history = moves ? moves.split('. ').map((m) => Number(m.slice(-1))) : [];
      let node = statedTree(item.prompt);
      for (const c of history) node = (node as Extract<GameTree, { kind: 'decision' }>).children[c - 1];
      expect(backwardInduction(node).path[0]).toBe(chosen(item));
    }
  });
});
