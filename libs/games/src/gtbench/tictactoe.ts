import type { ChanceOutcome, Game, GameState, PlayerId, Turn } from '../core/game';
import { alternatingMoveLines } from './move-history';
import { lastMatch, type ParsedMove } from './move-text';

const LINES = [
  [0, 1, 2], [3, 4, 5], [6, 7, 8],
  [0, 3, 6], [1, 4, 7], [2, 5, 8],
  [0, 4, 8], [2, 4, 6],
];

/** Cell id = 3 * (row - 1) + (column - 1); notation `<CxRy>` (column first, 1-based). */
export const tictactoeCell = (column: number, row: number) => 3 * (row - 1) + (column - 1);

class TicTacToeState implements GameState {
  readonly game = 'tictactoe';

  constructor(
    readonly board: ReadonlyArray<-1 | 0 | 1>,
    readonly toMove: PlayerId,
    readonly moves: ReadonlyArray<number> = [],
  ) {}

  private winner(): PlayerId | null {
    for (const [a, b, c] of LINES) {
      if (this.board[a] !== -1 && this.board[a] === this.board[b] && this.board[b] === this.board[c]) return this.board[a];
    }
    return null;
  }

  turn(): Turn {
    if (this.winner() !== null || this.board.every((cell) => cell !== -1)) return { kind: 'terminal' };
    return { kind: 'player', player: this.toMove };
  }

  legalActions(): number[] {
    if (this.turn().kind === 'terminal') return [];
    return this.board.flatMap((cell, i) => (cell === -1 ? [i] : []));
  }

  chanceOutcomes(): ChanceOutcome[] {
    return [];
  }

  apply(action: number): GameState {
    if (!this.legalActions().includes(action)) throw new Error(`tictactoe: action ${action} is not legal`);
    const board = [...this.board];
    board[action] = this.toMove as 0 | 1;
    return new TicTacToeState(board, 1 - this.toMove, [...this.moves, action]);
  }

  applyJoint(): GameState {
    throw new Error('tictactoe has no simultaneous moves');
  }

  returns(): number[] {
    const winner = this.winner();
    return winner === null ? [0, 0] : winner === 0 ? [1, -1] : [-1, 1];
  }

  actionToString(_player: PlayerId, action: number): string {
    return `<C${(action % 3) + 1}R${Math.floor(action / 3) + 1}>`;
  }

  observationString(player: PlayerId): string {
    return [
      'Tic-tac-toe on a 3x3 grid: three of your marks in a row, column or diagonal wins; a full grid without a line is a draw.',
      'Squares are named <CxRy>: column x (1-3, left to right), then row y (1-3, top to bottom), e.g. <C1R3>.',
      ...alternatingMoveLines(this.moves, player, (p, a) => this.actionToString(p, a)),
      `Legal moves: ${this.legalActions().map((a) => this.actionToString(player, a)).join(', ')}.`,
    ].join('\n');
  }

  toString(): string {
    return this.board.map((c) => (c === -1 ? '.' : c === 0 ? 'x' : 'o')).join('');
  }
}

export const TICTACTOE: Game = {
  name: 'tictactoe',
  numPlayers: 2,
  suite: 'gtbench',
  initialState: () => new TicTacToeState(Array(9).fill(-1), 0),
};

/** GTBench's pattern `C[1-3]R[1-3]` (brackets optional), last match; the square must be free. */
export function parseTicTacToeMove(reply: string, state: GameState, player: PlayerId): ParsedMove {
  const match = lastMatch(reply, /C([1-3])R([1-3])/);
  if (!match) return { ok: false, reason: 'no move of the form <CxRy>' };
  const action = tictactoeCell(Number(match[1]), Number(match[2]));
  if (!state.legalActions(player).includes(action)) return { ok: false, reason: `${match[0]} is not a free square` };
  return { ok: true, action, matched: match[0] };
}
