import type { GameState, PlayerId } from '../core/game';

/**
 * Exact minimax for small two-player zero-sum games of perfect information without chance (tictactoe, nim),
 * memoised on the state's string. Values are player 0's return under perfect play.
 */
export class Minimax {
  private readonly memo = new Map<string, number>();

  value(state: GameState): number {
    const key = state.toString();
    const cached = this.memo.get(key);
    if (cached !== undefined) return cached;
    const turn = state.turn();
    let value: number;
    if (turn.kind === 'terminal') value = state.returns()[0];
    else if (turn.kind !== 'player') throw new Error(`minimax: ${state.game} has ${turn.kind} nodes`);
    else {
      const children = state.legalActions(turn.player).map((a) => this.value(state.apply(a)));
      value = turn.player === 0 ? Math.max(...children) : Math.min(...children);
    }
    this.memo.set(key, value);
    return value;
  }

  /** The best move for the player to move (lowest action id among equals, so it is deterministic). */
  bestMove(state: GameState, player: PlayerId): number {
    const sign = player === 0 ? 1 : -1;
    let best = Number.NEGATIVE_INFINITY;
    let bestAction = -1;
    for (const action of state.legalActions(player)) {
      const value = sign * this.value(state.apply(action));
      if (value > best) {
        best = value;
        bestAction = action;
      }
    }
    return bestAction;
  }
}
