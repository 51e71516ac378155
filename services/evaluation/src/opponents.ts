import { mctsMove, randomMove, titForTatMove, type Opponent } from '@recon/games';

export type OpponentName = 'random' | 'mcts' | 'mcts-fair' | 'tit-for-tat';

/**
 * The built-in opponent of a name for a game. MCTS cannot search the prisoner's dilemma's simultaneous
 * rounds, so for that game the MCTS opponents are replaced by tit-for-tat (recorded by name).
 */
export function opponentFor(name: OpponentName, game: string): Opponent | null {
  const ipd = game === 'prisoners_dilemma';
  if (name === 'random') return { name: 'random', move: randomMove };
  if (name === 'tit-for-tat' || ipd)
    return ipd ? { name: 'tit-for-tat', move: (s, p) => titForTatMove(s, p) } : null;
  const information = name === 'mcts' ? 'oracle' : 'sampled';
  return { name, move: (s, p, rng) => mctsMove(s, p, rng, { information }) };
}
