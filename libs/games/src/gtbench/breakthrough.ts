import type { ChanceOutcome, Game, GameState, PlayerId, Turn } from '../core/game';
import { alternatingMoveLines } from './move-history';
import { lastMatch, type ParsedMove } from './move-text';

/** GTBench's parameters: 8 rows, 3 columns (columns a-c, rows 1-8 bottom to top). */
const ROWS = 8;
const COLUMNS = 3;
const PIECE = ['b', 'w'] as const;

/**
 * OpenSpiel's action encoding: ((r * columns + c) * 6 + direction) * 2 + capture, where r = 0 is the top
 * row (row 8). Directions 0-2 are black's (down-left, down, down-right), 3-5 white's (up-left, up, up-right).
 */
const DIRECTION_ROW = [1, 1, 1, -1, -1, -1];
const DIRECTION_COLUMN = [-1, 0, 1, -1, 0, 1];

interface Step {
  r1: number;
  c1: number;
  r2: number;
  c2: number;
  direction: number;
  capture: boolean;
}

function decode(action: number): Step {
  const capture = action % 2 === 1;
  const direction = Math.floor(action / 2) % 6;
  const cell = Math.floor(action / 12);
  const r1 = Math.floor(cell / COLUMNS);
  const c1 = cell % COLUMNS;
  return { r1, c1, r2: r1 + DIRECTION_ROW[direction], c2: c1 + DIRECTION_COLUMN[direction], direction, capture };
}

const encode = (r: number, c: number, direction: number, capture: boolean) => ((r * COLUMNS + c) * 6 + direction) * 2 + (capture ? 1 : 0);
const squareName = (r: number, c: number) => `${'abc'[c]}${ROWS - r}`;
const inBounds = (r: number, c: number) => r >= 0 && r < ROWS && c >= 0 && c < COLUMNS;

/**
 * The action for a move written in GTBench notation, e.g. `a7->a6` or `b7->c6*`, as `player` would play it;
 * null if it is not a one-step forward move for that player.
 */
export function breakthroughAction(player: PlayerId, from: string, to: string, capture: boolean): number | null {
  const square = (name: string) => ({ r: ROWS - Number(name[1]), c: name.charCodeAt(0) - 97 });
  const a = square(from);
  const b = square(to);
  if (!inBounds(a.r, a.c) || !inBounds(b.r, b.c)) return null;
  const forward = player === 0 ? 1 : -1;
  const dc = b.c - a.c;
  if (b.r - a.r !== forward || Math.abs(dc) > 1) return null;
  return encode(a.r, a.c, player * 3 + dc + 1, capture);
}

class BreakthroughState implements GameState {
  readonly game = 'breakthrough';

  constructor(
    /** board[r * 3 + c], r = 0 the top row (8); 0 black, 1 white, -1 empty. */
    readonly board: ReadonlyArray<number>,
    readonly toMove: PlayerId,
    readonly moves: ReadonlyArray<number>,
    /** Set when a piece reached the far row. */
    readonly winner: PlayerId | null,
  ) {}

  private pieces(player: PlayerId): number {
    return this.board.filter((cell) => cell === player).length;
  }

  private isTerminal(): boolean {
    return this.winner !== null || this.pieces(0) === 0 || this.pieces(1) === 0;
  }

  turn(): Turn {
    return this.isTerminal() ? { kind: 'terminal' } : { kind: 'player', player: this.toMove };
  }

  /** Never empty before the end: a side's most advanced piece always has a free or capturable diagonal. */
  legalActions(player: PlayerId): number[] {
    if (this.isTerminal() || player !== this.toMove) return [];
    const legal: number[] = [];
    for (let r = 0; r < ROWS; r += 1) {
      for (let c = 0; c < COLUMNS; c += 1) {
        if (this.board[r * COLUMNS + c] !== player) continue;
        for (let o = 0; o < 3; o += 1) {
          const direction = player * 3 + o;
          const r2 = r + DIRECTION_ROW[direction];
          const c2 = c + DIRECTION_COLUMN[direction];
          if (!inBounds(r2, c2)) continue;
          const target = this.board[r2 * COLUMNS + c2];
          if (target === -1) legal.push(encode(r, c, direction, false));
          else if (o !== 1 && target === 1 - player) legal.push(encode(r, c, direction, true));
        }
      }
    }
    return legal.sort((x, y) => x - y);
  }

  chanceOutcomes(): ChanceOutcome[] {
    return [];
  }

  apply(action: number): GameState {
    if (!this.legalActions(this.toMove).includes(action)) throw new Error(`breakthrough: action ${action} is not legal`);
    const { r1, c1, r2, c2 } = decode(action);
    const board = [...this.board];
    board[r2 * COLUMNS + c2] = this.toMove;
    board[r1 * COLUMNS + c1] = -1;
    const farRow = this.toMove === 0 ? ROWS - 1 : 0;
    return new BreakthroughState(board, 1 - this.toMove, [...this.moves, action], r2 === farRow ? this.toMove : null);
  }

  applyJoint(): GameState {
    throw new Error('breakthrough has no simultaneous moves');
  }

  returns(): number[] {
    if (!this.isTerminal()) return [0, 0];
    const winner = this.winner ?? (this.pieces(1) === 0 ? 0 : 1);
    return winner === 0 ? [1, -1] : [-1, 1];
  }

  actionToString(_player: PlayerId, action: number): string {
    const { r1, c1, r2, c2, capture } = decode(action);
    return `<${squareName(r1, c1)}->${squareName(r2, c2)}${capture ? '*' : ''}>`;
  }

  /** Rows top first, each prefixed by its number (`8bbb` ... `1www`). */
  boardRows(): string[] {
    return Array.from({ length: ROWS }, (_, r) => {
      const cells = this.board.slice(r * COLUMNS, (r + 1) * COLUMNS).map((cell) => (cell === -1 ? '.' : PIECE[cell]));
      return `${ROWS - r}${cells.join('')}`;
    });
  }

  observationString(player: PlayerId): string {
    const legal = this.legalActions(player).map((a) => this.actionToString(player, a));
    return [
      'Breakthrough on a board of 8 rows (1-8, bottom to top) and 3 columns (a-c, left to right).',
      'Black (b) starts on rows 8 and 7 and moves down; white (w) starts on rows 2 and 1 and moves up; black moves first.',
      'A piece steps one square forward, straight or diagonally, onto an empty square, or captures an enemy piece diagonally forward.',
      'You win by reaching the far row or by capturing every enemy piece. There are no draws.',
      'Moves are written <from->to>, with * before the closing bracket for a capture, e.g. <a7->a6> or <b7->c6*>.',
      `Board (b black, w white, . empty): ${this.boardRows().map((row) => `'${row}'`).join(', ')}.`,
      ...alternatingMoveLines(this.moves, player, (p, a) => this.actionToString(p, a)),
      legal.length > 0 ? `Legal moves: ${legal.join(' or ')}.` : 'No legal moves: the game is over.',
    ].join('\n');
  }

  toString(): string {
    return `${this.boardRows().join('/')}|${this.toMove}`;
  }
}

function initialBoard(): number[] {
  const board = Array<number>(ROWS * COLUMNS).fill(-1);
  for (let c = 0; c < COLUMNS; c += 1) {
    for (const r of [0, 1]) board[r * COLUMNS + c] = 0;
    for (const r of [ROWS - 2, ROWS - 1]) board[r * COLUMNS + c] = 1;
  }
  return board;
}

export const BREAKTHROUGH: Game = {
  name: 'breakthrough',
  numPlayers: 2,
  suite: 'gtbench',
  initialState: () => new BreakthroughState(initialBoard(), 0, [], null),
};

/**
 * GTBench's pattern `[a-c][1-8]->[a-c][1-8]` with an optional `*` (brackets not required), last match. If
 * the move is illegal only because of its capture mark, the mark is flipped and the move accepted.
 */
export function parseBreakthroughMove(reply: string, state: GameState, player: PlayerId): ParsedMove {
  const match = lastMatch(reply, /([a-c][1-8])->([a-c][1-8])(\*)?/);
  if (!match) return { ok: false, reason: 'no move of the form <a7->a6>' };
  const legal = state.legalActions(player);
  const marked = match[3] === '*';
  for (const capture of [marked, !marked]) {
    const action = breakthroughAction(player, match[1], match[2], capture);
    if (action !== null && legal.includes(action)) return { ok: true, action, matched: match[0] };
  }
  return { ok: false, reason: `${match[0]} is not a legal move` };
}
