import type { GameState } from '../core/game';
import { KUHN_BET as BET, KUHN_PASS as PASS, KUHN_POKER, parseKuhnPokerMove } from './kuhn-poker';

const J = 0;
const Q = 1;
const K = 2;
const play = (actions: number[], state: GameState = KUHN_POKER.initialState()) => actions.reduce((s, a) => s.apply(a), state);

describe('kuhn_poker', () => {
  it('deals one card to each player by chance, player 0 first, then lets player 0 act', () => {
    const start = KUHN_POKER.initialState();
    expect(start.turn()).toEqual({ kind: 'chance' });
    expect(start.chanceOutcomes()).toEqual([J, Q, K].map((action) => ({ action, probability: 1 / 3 })));
    expect(play([K]).chanceOutcomes()).toEqual([J, Q].map((action) => ({ action, probability: 1 / 2 })));
    expect(() => play([K, K])).toThrow(/cannot be dealt/);
    const dealt = play([K, Q]);
    expect(dealt.turn()).toEqual({ kind: 'player', player: 0 });
    expect(dealt.legalActions(0)).toEqual([PASS, BET]);
    expect(dealt.legalActions(1)).toEqual([]);
  });

  it.each([
    ['pass-pass, showdown for 1', [J, K, PASS, PASS], [-1, 1]],
    ['pass-bet-pass, player 1 wins 1 whatever the cards', [K, J, PASS, BET, PASS], [-1, 1]],
    ['pass-bet-bet, showdown for 2', [Q, J, PASS, BET, BET], [2, -2]],
    ['bet-pass, player 0 wins 1 whatever the cards', [J, K, BET, PASS], [1, -1]],
    ['bet-bet with K against Q pays the K holder +2', [K, Q, BET, BET], [2, -2]],
    ['bet-bet with Q against K', [Q, K, BET, BET], [-2, 2]],
  ])('%s', (_name, actions, returns) => {
    const end = play(actions as number[]);
    expect(end.turn()).toEqual({ kind: 'terminal' });
    expect(end.returns()).toEqual(returns);
    expect(end.legalActions(0)).toEqual([]);
  });

  it('is not over after pass-bet (player 0 must answer the bet)', () => {
    const state = play([J, Q, PASS, BET]);
    expect(state.turn()).toEqual({ kind: 'player', player: 0 });
    expect(state.returns()).toEqual([0, 0]);
  });

  it("shows a player its own card and the true history, never the other card", () => {
    const withJack = play([Q, J, PASS, BET]);
    const withKing = play([Q, K, PASS, BET]);
    expect(withJack.observationString(0)).toBe(withKing.observationString(0));
    expect(withJack.observationString(1)).not.toBe(withKing.observationString(1));
    expect(withJack.observationString(0)).toContain('Your card: Q.');
    expect(withJack.observationString(0)).toContain('round 1: you played <Pass>; round 2: your opponent played <Bet>');
    expect(withJack.observationString(1)).toContain('round 1: your opponent played <Pass>; round 2: you played <Bet>');
  });

  it('parses the last <Pass> or <Bet>, case-sensitive', () => {
    const state = play([K, Q]);
    expect(parseKuhnPokerMove('<think><Pass>?</think> Action: <Bet>', state, 0)).toMatchObject({ ok: true, action: BET });
    expect(parseKuhnPokerMove('<Bet> or rather <Pass>', state, 0)).toMatchObject({ ok: true, action: PASS });
    expect(parseKuhnPokerMove('<pass>', state, 0)).toMatchObject({ ok: false, reason: 'no move of the form <Pass> or <Bet>' });
    expect(parseKuhnPokerMove('<Bet>', state, 1)).toMatchObject({ ok: false, reason: '<Bet> is not legal now' });
  });
});
