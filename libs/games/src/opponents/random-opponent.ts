import type { GameState, PlayerId } from '../core/game';
import type { Rng } from '../rng';

/** Uniform over the legal moves, from a seeded generator. */
export function randomMove(state: GameState, player: PlayerId, rng: Rng): number {
  const legal = state.legalActions(player);
  if (legal.length === 0) throw new Error(`${state.game}: no legal move for player ${player}`);
  return legal[rng.int(legal.length)];
}
