import type { PlayerId } from '../core/game';

/**
 * The history lines of a prompt in a game where two players alternate, player 0 first: the opponent's
 * moves so far, then the player's own, each in the game's notation.
 */
export function alternatingMoveLines(
  moves: readonly number[],
  player: PlayerId,
  notation: (player: PlayerId, action: number) => string,
): string[] {
  const says = (p: PlayerId) => moves.filter((_, i) => i % 2 === p).map((m) => notation(p, m));
  const theirs = says(1 - player);
  const mine = says(player);
  return [
    theirs.length > 0
      ? `Your opponent's moves so far: ${theirs.join(', ')}.`
      : 'Your opponent has not moved yet.',
    mine.length > 0 ? `Your moves so far: ${mine.join(', ')}.` : 'You have not moved yet.',
  ];
}
