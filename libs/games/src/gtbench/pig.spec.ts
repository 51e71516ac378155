import type { GameState } from '../core/game';
import { PIG, PIG_ROLL as ROLL, PIG_STOP as STOP, parsePigMove } from './pig';

/** Chance outcomes are written as die faces (id = face - 1). */
const die = (face: number) => face - 1;
const play = (actions: number[], state: GameState = PIG.initialState()) => actions.reduce((s, a) => s.apply(a), state);

describe('pig (winscore 20)', () => {
  it('lets the player roll or stop; a roll is a chance node with six equally likely faces', () => {
    const start = PIG.initialState();
    expect(start.turn()).toEqual({ kind: 'player', player: 0 });
    expect(start.legalActions(0)).toEqual([ROLL, STOP]);
    const rolling = start.apply(ROLL);
    expect(rolling.turn()).toEqual({ kind: 'chance' });
    expect(rolling.chanceOutcomes()).toEqual([0, 1, 2, 3, 4, 5].map((action) => ({ action, probability: 1 / 6 })));
  });

  it('clears the turn total on a 1 and passes the turn; 2-6 add to it; stop banks it', () => {
    const busted = play([ROLL, die(5), ROLL, die(1)]);
    expect(busted.turn()).toEqual({ kind: 'player', player: 1 });
    expect(busted.observationString(0)).toContain('Your score: 0.');
    const banked = play([ROLL, die(5), ROLL, die(4), STOP]);
    expect(banked.turn()).toEqual({ kind: 'player', player: 1 });
    expect(banked.observationString(0)).toContain('Your score: 9. Your opponent\'s score: 0.');
    expect(banked.observationString(1)).toContain('Your score: 0. Your opponent\'s score: 9.');
  });

  it('forces stop once the target is in reach and ends with +1/-1 when a score reaches 20', () => {
    const inReach = play([ROLL, die(6), ROLL, die(6), ROLL, die(6), ROLL, die(4)]);
    expect(inReach.legalActions(0)).toEqual([STOP]);
    expect(() => inReach.apply(ROLL)).toThrow(/not legal/);
    const end = inReach.apply(STOP);
    expect(end.turn()).toEqual({ kind: 'terminal' });
    expect(end.returns()).toEqual([1, -1]);
  });

  it('ends 0/0 at the horizon of 1,000 decisions', () => {
    let state = PIG.initialState();
    for (let i = 0; i < 999; i += 1) state = state.apply(STOP);
    expect(state.turn().kind).toBe('player');
    state = state.apply(STOP);
    expect(state.turn()).toEqual({ kind: 'terminal' });
    expect(state.returns()).toEqual([0, 0]);
  });

  it('reads the last non-empty line, lower-cased; the first of "roll" and "stop" in it decides', () => {
    const start = PIG.initialState();
    expect(parsePigMove('I could roll...\n\nAction: <STOP>\n  ', start, 0)).toMatchObject({ ok: true, action: STOP });
    expect(parsePigMove('Roll now, stop later', start, 0)).toMatchObject({ ok: true, action: ROLL });
    expect(parsePigMove('<stop>\nI pass', start, 0)).toMatchObject({ ok: false, reason: 'the last line names neither roll nor stop' });
    const inReach = play([ROLL, die(6), ROLL, die(6), ROLL, die(6), ROLL, die(4)]);
    expect(parsePigMove('<roll>', inReach, 0)).toMatchObject({ ok: false, reason: 'roll is not legal now' });
  });

  it('tells the player the engine target, 20 (not GTBench\'s 100)', () => {
    expect(PIG.initialState().observationString(0)).toContain('first to bank 20 points');
  });
});
