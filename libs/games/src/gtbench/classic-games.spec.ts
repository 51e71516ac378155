import { CONNECT4, parseConnect4Move } from './connect4';
import { NIM, nimAction, parseNimMove } from './nim';
import { TICTACTOE, parseTicTacToeMove, tictactoeCell } from './tictactoe';
import type { GameState } from '../core/game';

const play = (state: GameState, actions: number[]) => actions.reduce((s, a) => s.apply(a), state);

describe('tictactoe', () => {
  it('uses cell id 3*(row-1)+(col-1) and the <CxRy> notation (games.md §5)', () => {
    expect(tictactoeCell(3, 1)).toBe(2);
    expect(tictactoeCell(1, 3)).toBe(6);
    const start = TICTACTOE.initialState();
    expect(start.actionToString(0, 2)).toBe('<C3R1>');
    expect(start.legalActions(0)).toHaveLength(9);
  });

  it('detects a win, a draw, and refuses an occupied square', () => {
    const won = play(TICTACTOE.initialState(), [0, 3, 1, 4, 2]);
    expect(won.turn()).toEqual({ kind: 'terminal' });
    expect(won.returns()).toEqual([1, -1]);
    const drawn = play(TICTACTOE.initialState(), [0, 1, 2, 4, 3, 5, 7, 6, 8]);
    expect(drawn.turn().kind).toBe('terminal');
    expect(drawn.returns()).toEqual([0, 0]);
    expect(() => play(TICTACTOE.initialState(), [4, 4])).toThrow(/not legal/);
  });

  it('parses the last <CxRy> of the answer and rejects a taken square', () => {
    const state = play(TICTACTOE.initialState(), [4]);
    expect(parseTicTacToeMove('<think>C2R2?</think> Action: <C1R1>', state, 1)).toMatchObject({ ok: true, action: 0 });
    expect(parseTicTacToeMove('C3R3 then C1R2', state, 1)).toMatchObject({ ok: true, action: 3 });
    expect(parseTicTacToeMove('Action: <C2R2>', state, 1)).toMatchObject({ ok: false });
    expect(parseTicTacToeMove('middle please', state, 1)).toMatchObject({ ok: false, reason: 'no move of the form <CxRy>' });
  });
});

describe('connect4', () => {
  it('drops pieces, detects four in a row in every direction, and fills columns', () => {
    const vertical = play(CONNECT4.initialState(), [0, 1, 0, 1, 0, 1, 0]);
    expect(vertical.returns()).toEqual([1, -1]);
    const horizontal = play(CONNECT4.initialState(), [0, 0, 1, 1, 2, 2, 3]);
    expect(horizontal.returns()).toEqual([1, -1]);
    const diagonal = play(CONNECT4.initialState(), [0, 1, 1, 2, 2, 3, 2, 3, 3, 6, 3]);
    expect(diagonal.returns()).toEqual([1, -1]);
    const full = play(CONNECT4.initialState(), [5, 5, 5, 5, 5, 5]);
    expect(full.legalActions(0)).toEqual([0, 1, 2, 3, 4, 6]);
  });

  it('parses <Cx> or "column x" (last match, first digit, capped) and rejects a full column', () => {
    const state = CONNECT4.initialState();
    expect(parseConnect4Move('I play column 4', state, 0)).toMatchObject({ ok: true, action: 3 });
    expect(parseConnect4Move('<C2> ... final <C7>', state, 0)).toMatchObject({ ok: true, action: 6 });
    const full = play(state, [5, 5, 5, 5, 5, 5]);
    expect(parseConnect4Move('<C6>', full, 0)).toMatchObject({ ok: false, reason: 'column 6 is full' });
    expect(parseConnect4Move('<C8>', state, 0)).toMatchObject({ ok: false });
  });
});

describe('nim (1, 3, 5, 7; misère)', () => {
  it('numbers actions (take-1)*4 + (pile-1) (games.md §5) and offers 16 opening moves', () => {
    expect(nimAction(1, 1)).toBe(0);
    expect(nimAction(4, 7)).toBe(27);
    const start = NIM.initialState();
    expect(start.legalActions(0)).toHaveLength(16);
    expect(start.actionToString(0, 27)).toBe('<pile:4, take:7>');
  });

  it('makes whoever takes the last object lose', () => {
    const end = play(NIM.initialState(), [nimAction(1, 1), nimAction(2, 3), nimAction(3, 5), nimAction(4, 7)]);
    expect(end.turn().kind).toBe('terminal');
    expect(end.returns()).toEqual([1, -1]); // player 1 took the last object
  });

  it('parses within the starting limits; a take above the current pile is illegal', () => {
    const state = play(NIM.initialState(), [nimAction(2, 2)]);
    expect(parseNimMove('<pile:4, take:2>', state, 1)).toMatchObject({ ok: true, action: nimAction(4, 2) });
    expect(parseNimMove('<pile:2, take:3>', state, 1)).toMatchObject({ ok: false });
    expect(parseNimMove('<pile:1, take:2>', state, 1)).toMatchObject({ ok: false, reason: 'no move of the form <pile:x, take:y>' });
  });
});
