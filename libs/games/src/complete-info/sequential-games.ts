/**
 * The five sequential complete-information games of Hua et al. (games.md §2.4) as binary trees. Alice
 * decides at depths 1 and 3, Bob at depth 2; every node has exactly two choices (choice_1, choice_2).
 */
export type GameTree =
  | { kind: 'leaf'; rewards: readonly [number, number] }
  | { kind: 'decision'; player: 'Alice' | 'Bob'; children: readonly [GameTree, GameTree] };

export interface SequentialGame {
  readonly name: string;
  readonly kind: 'sequential';
  readonly tree: GameTree;
}

const leaf = (alice: number, bob: number): GameTree => ({ kind: 'leaf', rewards: [alice, bob] });
const alice = (first: GameTree, second: GameTree): GameTree => ({
  kind: 'decision',
  player: 'Alice',
  children: [first, second],
});
const bob = (first: GameTree, second: GameTree): GameTree => ({
  kind: 'decision',
  player: 'Bob',
  children: [first, second],
});

export const ESCALATION: SequentialGame = {
  name: 'Escalation',
  kind: 'sequential',
  tree: alice(leaf(0, 0), bob(leaf(1, -2), alice(leaf(-2, 1), leaf(-1, -1)))),
};

export const MONOPOLY: SequentialGame = {
  name: 'Monopoly',
  kind: 'sequential',
  tree: alice(leaf(0, 2), bob(leaf(2, 1), leaf(-1, -1))),
};

export const HOT_COLD: SequentialGame = {
  name: 'Hot-Cold',
  kind: 'sequential',
  tree: alice(bob(leaf(3, 2), leaf(2, 3)), bob(leaf(1, 4), leaf(4, 1))),
};

export const DRACO: SequentialGame = {
  name: 'Draco',
  kind: 'sequential',
  tree: alice(bob(leaf(5, 5), alice(leaf(2, 2), leaf(3, 4))), bob(leaf(4, 5), alice(leaf(5, 3), leaf(2, 2)))),
};

export const TRIGAME: SequentialGame = {
  name: 'Trigame',
  kind: 'sequential',
  tree: alice(
    bob(alice(leaf(20, 3), leaf(0, 4)), alice(leaf(2, 5), leaf(3, 4))),
    bob(alice(leaf(1, 5), leaf(4, 10)), alice(leaf(2, 1), leaf(3, 2))),
  ),
};

export const SEQUENTIAL_GAMES = [ESCALATION, MONOPOLY, HOT_COLD, DRACO, TRIGAME] as const;

/** Every terminal path as its choice digits (1 or 2), ordered as the prompts list them: by length, then labels. */
export function terminalPaths(tree: GameTree): Array<{ path: number[]; rewards: readonly [number, number] }> {
  const found: Array<{ path: number[]; rewards: readonly [number, number] }> = [];
  const walk = (node: GameTree, path: number[]) => {
    if (node.kind === 'leaf') found.push({ path, rewards: node.rewards });
    else node.children.forEach((child, i) => walk(child, [...path, i + 1]));
  };
  walk(tree, []);
  return found.sort(
    (a, b) => a.path.length - b.path.length || a.path.join('').localeCompare(b.path.join('')),
  );
}
