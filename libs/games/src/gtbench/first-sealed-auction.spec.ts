import type { GameState } from '../core/game';
import { FIRST_SEALED_AUCTION, parseAuctionBid } from './first-sealed-auction';

const play = (actions: number[], state: GameState = FIRST_SEALED_AUCTION.initialState()) => actions.reduce((s, a) => s.apply(a), state);

describe('first_sealed_auction (valuations 1..10)', () => {
  it('draws each valuation uniformly from 1..10, then player 0 and player 1 bid below their valuations', () => {
    const start = FIRST_SEALED_AUCTION.initialState();
    expect(start.chanceOutcomes()).toEqual(Array.from({ length: 10 }, (_, i) => ({ action: i + 1, probability: 0.1 })));
    const valued = play([7, 1]);
    expect(valued.turn()).toEqual({ kind: 'player', player: 0 });
    expect(valued.legalActions(0)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    const second = valued.apply(3);
    expect(second.turn()).toEqual({ kind: 'player', player: 1 });
    expect(second.legalActions(1)).toEqual([0]); // valuation 1: the single, forced bid
    expect(() => valued.apply(7)).toThrow(/not legal/);
  });

  it('pays the higher bidder valuation - bid and the loser 0', () => {
    expect(play([7, 4, 3, 2]).returns()).toEqual([4, 0]);
    expect(play([7, 9, 3, 5]).returns()).toEqual([0, 4]);
    expect(play([7, 9, 3, 5]).turn()).toEqual({ kind: 'terminal' });
  });

  it('breaks a tie with a fair chance draw naming the winner', () => {
    const tied = play([7, 4, 2, 2]);
    expect(tied.turn()).toEqual({ kind: 'chance' });
    expect(tied.chanceOutcomes()).toEqual([{ action: 0, probability: 0.5 }, { action: 1, probability: 0.5 }]);
    expect(tied.apply(1).returns()).toEqual([0, 2]);
    expect(tied.apply(0).returns()).toEqual([5, 0]);
  });

  it("keeps bids sealed: the second bidder's view does not depend on the first bid or valuation", () => {
    const a = play([7, 4, 1]);
    const b = play([3, 4, 2]);
    expect(a.observationString(1)).toBe(b.observationString(1));
    expect(a.observationString(1)).toContain('Your valuation of the item: 4. Your bid must be a whole number strictly below it (0 to 3).');
    expect(a.observationString(0)).not.toBe(b.observationString(0));
  });

  it('parses <x> for x in 0..10 (last match) and moves an illegal bid to the nearest legal one', () => {
    const state = play([4, 9]);
    expect(parseAuctionBid('<1> then <2>', state, 0)).toMatchObject({ ok: true, action: 2 });
    expect(parseAuctionBid('I bid <10>', state, 0)).toMatchObject({ ok: true, action: 3 });
    expect(parseAuctionBid('<7>', state, 0)).toMatchObject({ ok: true, action: 3, matched: '<7>' });
    expect(parseAuctionBid('I bid 2', state, 0)).toMatchObject({ ok: false });
    expect(parseAuctionBid('<11>', state, 0)).toMatchObject({ ok: false, reason: 'no bid of the form <x> with x from 0 to 10' });
  });
});
