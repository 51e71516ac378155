/** A finite game tree with perfect information: players are 0-based indexes into the leaves' payoff vectors. */
export type GameTree =
  | { kind: 'leaf'; payoffs: number[] }
  | { kind: 'decision'; player: number; name?: string; moves: Array<{ action: string; next: GameTree }> };

export interface Decision {
  /** Where the node sits: the actions leading to it from the root. */
  at: string[];
  name?: string;
  player: number;
  action: string;
  /** True when another move gives the mover the same payoff (the first listed one is taken). */
  tie: boolean;
}

export interface BackwardInductionResult {
  payoffs: number[];
  /** The equilibrium path from the root. */
  path: string[];
  /** The subgame-perfect choice at every decision node (depth-first order). */
  plan: Decision[];
}

/**
 * Subgame-perfect play by backward induction: each mover takes the move whose solved subtree pays them most;
 * ties go to the first listed move and are flagged. Throws on an empty node, a bad player index or ragged payoffs.
 */
export function solveBackwardInduction(tree: GameTree): BackwardInductionResult {
  const plan: Decision[] = [];
  let players = -1;
  const solve = (node: GameTree, at: string[]): { payoffs: number[]; path: string[] } => {
    const where = at.length === 0 ? 'root' : at.join(' > ');
    if (node.kind === 'leaf') {
      if (node.payoffs.length === 0 || node.payoffs.some((v) => !Number.isFinite(v))) throw new Error(`leaf at ${where}: payoffs must be finite numbers`);
      if (players >= 0 && node.payoffs.length !== players) throw new Error(`leaf at ${where}: ${node.payoffs.length} payoffs, expected ${players}`);
      players = node.payoffs.length;
      return { payoffs: node.payoffs, path: [] };
    }
    if (node.moves.length === 0) throw new Error(`decision node at ${where}: has no moves`);
    const solved = node.moves.map((m) => ({ action: m.action, ...solve(m.next, [...at, m.action]) }));
    if (!Number.isInteger(node.player) || node.player < 0 || node.player >= players) {
      throw new Error(`decision node at ${where}: player ${node.player} is not one of 0..${players - 1}`);
    }
    const value = (s: (typeof solved)[number]) => s.payoffs[node.player];
    const best = solved.reduce((a, b) => (value(b) > value(a) ? b : a));
    const tie = solved.filter((s) => value(s) === value(best)).length > 1;
    plan.push({ at, ...(node.name ? { name: node.name } : {}), player: node.player, action: best.action, tie });
    return { payoffs: best.payoffs, path: [best.action, ...best.path] };
  };
  const { payoffs, path } = solve(tree, []);
  return { payoffs, path, plan };
}
