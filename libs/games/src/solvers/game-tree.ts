import type { GameTree } from '../complete-info/sequential-games';

export interface TreeOutcome {
  /** Choices along the path (1 or 2), from the root. */
  path: number[];
  rewards: readonly [number, number];
}

const playerIndex = (player: 'Alice' | 'Bob') => (player === 'Alice' ? 0 : 1);

/** The subgame-perfect path by backward induction; throws on a tie at a decision node (none in the five games). */
export function backwardInduction(tree: GameTree): TreeOutcome {
  if (tree.kind === 'leaf') return { path: [], rewards: tree.rewards };
  const [first, second] = tree.children.map(backwardInduction);
  const who = playerIndex(tree.player);
  if (first.rewards[who] === second.rewards[who])
    throw new Error(`${tree.player} is indifferent: backward induction is not unique`);
  const best = first.rewards[who] > second.rewards[who] ? 1 : 2;
  const chosen = best === 1 ? first : second;
  return { path: [best, ...chosen.path], rewards: chosen.rewards };
}

/** Decision nodes in a fixed order (pre-order), each with its player. */
function decisionNodes(tree: GameTree): Array<Extract<GameTree, { kind: 'decision' }>> {
  if (tree.kind === 'leaf') return [];
  return [tree, ...tree.children.flatMap(decisionNodes)];
}

function play(tree: GameTree, choice: Map<GameTree, number>): TreeOutcome {
  const path: number[] = [];
  let node = tree;
  while (node.kind === 'decision') {
    const c = choice.get(node) as number;
    path.push(c);
    node = node.children[c - 1];
  }
  return { path, rewards: node.rewards };
}

export interface StrategicFormSummary {
  strategies: [number, number];
  equilibria: number;
  /** Distinct outcome paths of the pure-strategy Nash equilibria of the strategic form. */
  outcomes: TreeOutcome[];
}

/**
 * The pure-strategy Nash equilibria of the tree's strategic form (a strategy fixes a choice at every own
 * node), by exhaustive search: how many strategies and equilibria there are, and the outcome paths they reach.
 */
export function strategicFormEquilibria(tree: GameTree): StrategicFormSummary {
  const nodes = decisionNodes(tree);
  const own = [nodes.filter((n) => n.player === 'Alice'), nodes.filter((n) => n.player === 'Bob')];
  const strategiesOf = (count: number) =>
    Array.from({ length: 2 ** count }, (_, s) => Array.from({ length: count }, (_, k) => ((s >> k) & 1) + 1));
  const [aliceStrategies, bobStrategies] = own.map((list) => strategiesOf(list.length));
  const outcome = (a: number[], b: number[]) => {
    const choice = new Map<GameTree, number>();
    own[0].forEach((node, k) => choice.set(node, a[k]));
    own[1].forEach((node, k) => choice.set(node, b[k]));
    return play(tree, choice);
  };
  const table = aliceStrategies.map((a) => bobStrategies.map((b) => outcome(a, b)));
  const outcomes = new Map<string, TreeOutcome>();
  let equilibria = 0;
  table.forEach((row) =>
    row.forEach((cell, j) => {
      const aliceBest = table.every((other) => other[j].rewards[0] <= cell.rewards[0]);
      const bobBest = row.every((other) => other.rewards[1] <= cell.rewards[1]);
      if (aliceBest && bobBest) {
        equilibria += 1;
        outcomes.set(cell.path.join(''), cell);
      }
    }),
  );
  return {
    strategies: [aliceStrategies.length, bobStrategies.length],
    equilibria,
    outcomes: [...outcomes.values()].sort((a, b) => a.path.join('').localeCompare(b.path.join(''))),
  };
}
