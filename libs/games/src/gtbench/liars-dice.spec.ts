import type { GameState } from '../core/game';
import { LIAR, LIARS_DICE, liarsDiceBid as bid, parseLiarsDiceMove } from './liars-dice';

/** Dice are given as faces; chance outcome ids are face - 1. */
const rolled = (faces: [number, number]) => faces.reduce<GameState>((s, face) => s.apply(face - 1), LIARS_DICE.initialState());
const play = (state: GameState, actions: number[]) => actions.reduce((s, a) => s.apply(a), state);

describe('liars_dice (one die each, sixes wild)', () => {
  it('numbers bids (q-1)*6 + (f-1) and Liar 12 (games.md §5)', () => {
    expect(bid(1, 1)).toBe(0);
    expect(bid(2, 6)).toBe(11);
    expect(LIAR).toBe(12);
    const state = rolled([2, 5]);
    expect(state.actionToString(0, 0)).toBe('<1 dices, 1 value>');
    expect(state.actionToString(0, 11)).toBe('<2 dices, 6 value>');
    expect(state.actionToString(0, 12)).toBe('<Liar>');
  });

  it('rolls both dice by chance, then player 0 bids; a bid must exceed the last; Liar needs a bid', () => {
    const start = LIARS_DICE.initialState();
    expect(start.turn()).toEqual({ kind: 'chance' });
    expect(start.chanceOutcomes()).toHaveLength(6);
    const state = rolled([2, 5]);
    expect(state.turn()).toEqual({ kind: 'player', player: 0 });
    expect(state.legalActions(0)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    expect(play(state, [bid(1, 4)]).legalActions(1)).toEqual([4, 5, 6, 7, 8, 9, 10, 11, LIAR]);
    expect(play(state, [bid(2, 6)]).legalActions(1)).toEqual([LIAR]);
    expect(() => play(state, [bid(1, 4), bid(1, 3)])).toThrow(/not legal/);
  });

  it.each([
    ['2 threes with a 3 and a wild 6: the bidder wins', [3, 6], [bid(2, 3), LIAR], [1, -1]],
    ['2 threes with a 3 and a 5: the caller wins', [3, 5], [bid(2, 3), LIAR], [-1, 1]],
    ['1 six with one 6: the bidder (player 1) wins', [2, 6], [bid(1, 2), bid(1, 6), LIAR], [-1, 1]],
    ['2 sixes with one 6: the caller (player 1) wins', [6, 1], [bid(2, 6), LIAR], [-1, 1]],
  ])('%s', (_name, faces, actions, returns) => {
    const end = play(rolled(faces as [number, number]), actions as number[]);
    expect(end.turn()).toEqual({ kind: 'terminal' });
    expect(end.returns()).toEqual(returns);
  });

  it("shows a player its own die, the last bid and the wild sixes, never the other die", () => {
    const a = play(rolled([3, 1]), [bid(1, 3)]);
    const b = play(rolled([3, 5]), [bid(1, 3)]);
    expect(a.observationString(0)).toBe(b.observationString(0));
    expect(a.observationString(1)).not.toBe(b.observationString(1));
    expect(a.observationString(1)).toContain('Your die shows 1.');
    expect(a.observationString(1)).toContain("Your opponent's last move: <1 dices, 3 value>.");
    expect(a.observationString(1)).toContain('Sixes are wild');
    expect(rolled([3, 1]).observationString(0)).toContain('you go first');
  });

  it('parses "dice" or "dices" and <Liar> (last match); refuses a bid not above the last', () => {
    const state = play(rolled([3, 1]), [bid(1, 4)]);
    expect(parseLiarsDiceMove('<1 dice, 5 value>', state, 1)).toMatchObject({ ok: true, action: bid(1, 5) });
    expect(parseLiarsDiceMove('<2 dices, 1 value> ... <Liar>', state, 1)).toMatchObject({ ok: true, action: LIAR });
    expect(parseLiarsDiceMove('<1 dices, 4 value>', state, 1)).toMatchObject({ ok: false, reason: '<1 dices, 4 value> is not above the last bid' });
    expect(parseLiarsDiceMove('<Liar>', rolled([3, 1]), 0)).toMatchObject({ ok: false, reason: '<Liar> needs a bid to call' });
    expect(parseLiarsDiceMove('<3 dices, 4 value>', state, 1)).toMatchObject({ ok: false, reason: 'no move of the form <q dices, f value> or <Liar>' });
  });
});
