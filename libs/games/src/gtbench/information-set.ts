import type { GameState, PlayerId } from '../core/game';
import type { Rng } from '../rng/rng';

/**
 * An engine state with hidden information implements this so an opponent can play without peeking:
 * it returns a state drawn from `player`'s information set, in which everything the player has seen is
 * kept and the hidden parts (the opponent's card, die, valuation or item values, an unseen bid, an
 * unannounced step limit) are redrawn from their chance distribution given what the player saw. An
 * opponent's hidden past move is redrawn uniformly from its legal moves (no model of the opponent).
 * The drawn state shows `player` the same `observationString` as the true one.
 *
 * Engines of perfect information (tictactoe, connect4, breakthrough, nim, pig) do not implement it.
 */
export interface InformationSetSampling {
  sampleInformationSet(player: PlayerId, rng: Rng): GameState;
}

export function samplesInformationSet(state: GameState): state is GameState & InformationSetSampling {
  return typeof (state as Partial<InformationSetSampling>).sampleInformationSet === 'function';
}
