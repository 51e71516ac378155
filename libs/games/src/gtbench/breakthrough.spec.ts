import type { GameState } from '../core/game';
import { BREAKTHROUGH, breakthroughAction, parseBreakthroughMove } from './breakthrough';

/** Plays moves written in GTBench notation, each through the parser, failing loudly on a refused one. */
function playMoves(moves: string[]): GameState {
  return moves.reduce((state, text) => {
    const turn = state.turn();
    if (turn.kind !== 'player') throw new Error(`no player to move before ${text}`);
    const parsed = parseBreakthroughMove(text, state, turn.player);
    if (!parsed.ok) throw new Error(`${text}: ${parsed.reason}`);
    return state.apply(parsed.action);
  }, BREAKTHROUGH.initialState());
}

describe('breakthrough (8 rows x 3 columns)', () => {
  it('starts with two rows each, black on top, and offers black the 7 opening moves of games.md', () => {
    const start = BREAKTHROUGH.initialState();
    expect(start.observationString(0)).toContain("'8bbb', '7bbb', '6...', '5...', '4...', '3...', '2www', '1www'");
    expect(start.turn()).toEqual({ kind: 'player', player: 0 });
    expect(start.legalActions(0).map((a) => start.actionToString(0, a)).sort()).toEqual(
      ['<a7->a6>', '<a7->b6>', '<b7->a6>', '<b7->b6>', '<b7->c6>', '<c7->b6>', '<c7->c6>'].sort(),
    );
    expect(start.legalActions(1)).toEqual([]);
  });

  it('uses OpenSpiel action ids: ((r * 3 + c) * 6 + direction) * 2 + capture, r = 0 the top row', () => {
    expect(breakthroughAction(0, 'a7', 'a6', false)).toBe(((1 * 3 + 0) * 6 + 1) * 2);
    expect(breakthroughAction(1, 'c2', 'b3', true)).toBe(((6 * 3 + 2) * 6 + 3) * 2 + 1);
    expect(breakthroughAction(0, 'a7', 'a8', false)).toBeNull(); // backwards for black
    expect(breakthroughAction(1, 'a2', 'c3', false)).toBeNull(); // two columns
  });

  it('captures only diagonally, ends when a piece reaches the far row, and pays +1/-1', () => {
    const facing = playMoves(['b7->b6', 'b2->b3', 'b6->b5', 'b3->b4']);
    const blocked = facing.legalActions(0).map((a) => facing.actionToString(0, a));
    expect(blocked).not.toContain('<b5->b4>'); // straight ahead is occupied, and no straight capture
    const beforeCapture = playMoves(['b7->b6', 'b2->b3', 'b6->b5', 'b3->b4', 'a7->a6', 'a2->a3', 'a6->a5']);
    expect(beforeCapture.legalActions(1).map((a) => beforeCapture.actionToString(1, a))).toContain('<b4->a5*>');
    const end = playMoves([
      'b7->b6', 'b2->b3', 'b6->b5', 'b3->b4', 'a7->a6', 'a2->a3', 'a6->a5',
      'b4->a5*', 'c7->c6', 'a5->a6', 'c6->c5', 'a6->a7', 'c5->c4', 'a7->b8*',
    ]);
    expect(end.turn()).toEqual({ kind: 'terminal' });
    expect(end.returns()).toEqual([-1, 1]);
    expect(end.legalActions(0)).toEqual([]);
  });

  it('parses the last move, with or without brackets, flipping a wrong capture mark', () => {
    const start = BREAKTHROUGH.initialState();
    expect(parseBreakthroughMove('maybe a7->b6, no: <b7->c6>', start, 0)).toMatchObject({ ok: true, action: breakthroughAction(0, 'b7', 'c6', false) });
    expect(parseBreakthroughMove('<a7->a6*>', start, 0)).toMatchObject({ ok: true, action: breakthroughAction(0, 'a7', 'a6', false) });
    const beforeCapture = playMoves(['b7->b6', 'b2->b3', 'b6->b5', 'b3->b4', 'a7->a6', 'a2->a3', 'a6->a5']);
    expect(parseBreakthroughMove('b4->a5', beforeCapture, 1)).toMatchObject({ ok: true, action: breakthroughAction(1, 'b4', 'a5', true) });
    expect(parseBreakthroughMove('<a7->a5>', start, 0)).toMatchObject({ ok: false, reason: 'a7->a5 is not a legal move' });
    expect(parseBreakthroughMove('<d7->d6>', start, 0)).toMatchObject({ ok: false, reason: 'no move of the form <a7->a6>' });
    expect(parseBreakthroughMove('<a2->a3>', start, 0)).toMatchObject({ ok: false });
  });
});
