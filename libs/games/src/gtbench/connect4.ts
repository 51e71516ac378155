import type { ChanceOutcome, Game, GameState, PlayerId, Turn } from '../core/game';
import { alternatingMoveLines } from './move-history';
import { lastMatch, type ParsedMove } from './move-text';

const ROWS = 6;
const COLUMNS = 7;

class Connect4State implements GameState {
  readonly game = 'connect4';

  constructor(
    /** board[row * 7 + column], row 0 at the bottom; -1 empty. */
    readonly board: ReadonlyArray<number>,
    readonly toMove: PlayerId,
    readonly moves: ReadonlyArray<number>,
    readonly winner: PlayerId | null,
  ) {}

  turn(): Turn {
    if (this.winner !== null || this.moves.length === ROWS * COLUMNS) return { kind: 'terminal' };
    return { kind: 'player', player: this.toMove };
  }

  legalActions(): number[] {
    if (this.turn().kind === 'terminal') return [];
    const legal: number[] = [];
    for (let c = 0; c < COLUMNS; c += 1) if (this.board[(ROWS - 1) * COLUMNS + c] === -1) legal.push(c);
    return legal;
  }

  chanceOutcomes(): ChanceOutcome[] {
    return [];
  }

  apply(column: number): GameState {
    if (!this.legalActions().includes(column)) throw new Error(`connect4: column ${column} is not legal`);
    let row = 0;
    while (this.board[row * COLUMNS + column] !== -1) row += 1;
    const board = [...this.board];
    board[row * COLUMNS + column] = this.toMove;
    const wins = this.completesFour(board, row, column, this.toMove);
    return new Connect4State(board, 1 - this.toMove, [...this.moves, column], wins ? this.toMove : null);
  }

  private completesFour(board: number[], row: number, column: number, player: number): boolean {
    for (const [dr, dc] of [[0, 1], [1, 0], [1, 1], [1, -1]]) {
      let count = 1;
      for (const sign of [1, -1]) {
        let r = row + sign * dr;
        let c = column + sign * dc;
        while (r >= 0 && r < ROWS && c >= 0 && c < COLUMNS && board[r * COLUMNS + c] === player) {
          count += 1;
          r += sign * dr;
          c += sign * dc;
        }
      }
      if (count >= 4) return true;
    }
    return false;
  }

  applyJoint(): GameState {
    throw new Error('connect4 has no simultaneous moves');
  }

  returns(): number[] {
    return this.winner === null ? [0, 0] : this.winner === 0 ? [1, -1] : [-1, 1];
  }

  actionToString(_player: PlayerId, action: number): string {
    return `<C${action + 1}>`;
  }

  observationString(player: PlayerId): string {
    return [
      'Connect Four on a grid of 6 rows and 7 columns: a piece dropped into a column falls to the lowest free cell.',
      'Four of your pieces in a row horizontally, vertically or diagonally wins; a full grid is a draw.',
      'Columns are named <C1> to <C7>, left to right.',
      ...alternatingMoveLines(this.moves, player, (p, a) => this.actionToString(p, a)),
      `Legal moves: ${this.legalActions().map((a) => this.actionToString(player, a)).join(', ')}.`,
    ].join('\n');
  }

  toString(): string {
    return this.board.map((c) => (c === -1 ? '.' : String(c))).join('');
  }
}

export const CONNECT4: Game = {
  name: 'connect4',
  numPlayers: 2,
  suite: 'gtbench',
  initialState: () => new Connect4State(Array(ROWS * COLUMNS).fill(-1), 0, [], null),
};

/** GTBench's pattern: `<C1>`..`<C7>` or "Column"/"column" then within 3 characters a digit 1-7; column = first digit - 1, capped at 6. */
export function parseConnect4Move(reply: string, state: GameState, player: PlayerId): ParsedMove {
  const match = lastMatch(reply, /<C[1-7]>|[Cc]olumn.{0,3}[1-7]/);
  if (!match) return { ok: false, reason: 'no move of the form <Cx>' };
  const action = Math.min(6, Number(/\d/.exec(match[0])![0]) - 1);
  if (!state.legalActions(player).includes(action)) return { ok: false, reason: `column ${action + 1} is full` };
  return { ok: true, action, matched: match[0] };
}
