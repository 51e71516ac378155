import type { GameState, PlayerId } from '../core/game';
import { IPD_SILENT, prisonersDilemmaRounds } from '../gtbench/prisoners-dilemma';

/**
 * GTBench's tit-for-tat for the iterated prisoner's dilemma: silent in the first round, then whatever the
 * opponent played in the previous round. It reads only completed rounds, which both players have seen.
 */
export function titForTatMove(state: GameState, player: PlayerId): number {
  if (player !== 0 && player !== 1) throw new Error(`tit-for-tat: no seat ${player} in ${state.game}`);
  const last = prisonersDilemmaRounds(state).at(-1);
  return last === undefined ? IPD_SILENT : last[1 - player];
}
