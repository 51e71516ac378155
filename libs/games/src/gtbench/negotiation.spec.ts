import type { GameState } from '../core/game';
import {
  NEGOTIATION,
  NEGOTIATION_AGREE as AGREE,
  makeNegotiationParser,
  negotiationProposal as proposal,
  negotiationUtterance as utterance,
  parseNegotiationMove,
} from './negotiation';

const values = ([a, b, c]: number[]) => 121 * a + 11 * b + c;
/** Step limit 4, pool [1, 2, 3], player 0 values [1, 2, 3], player 1 values [3, 2, 1]. */
const setUp = (stepLimit = 4, p1Values = [3, 2, 1]) =>
  [stepLimit, proposal([1, 2, 3]), values([1, 2, 3]), values(p1Values)].reduce<GameState>((s, a) => s.apply(a), NEGOTIATION.initialState());
const play = (state: GameState, actions: number[]) => actions.reduce((s, a) => s.apply(a), state);
const quiet = utterance([0, 0, 0]);

describe('negotiation', () => {
  it('numbers proposals 36a+6b+c, Agree 216 and utterances 217+25u1+5u2+u3 (games.md §5)', () => {
    expect(proposal([5, 5, 5])).toBe(215);
    expect(AGREE).toBe(216);
    expect(utterance([4, 4, 4])).toBe(341);
    const state = setUp();
    expect(state.actionToString(0, proposal([1, 0, 2]))).toBe('<Proposal: [1, 0, 2]>');
    expect(state.actionToString(0, AGREE)).toBe('<Agree>');
    expect(state.actionToString(0, utterance([4, 0, 1]))).toBe('<Utterance: [4, 0, 1]>');
  });

  it('draws step limit (truncated Poisson 4..10), pool and two non-zero value vectors as four chance nodes', () => {
    const start = NEGOTIATION.initialState();
    const limits = start.chanceOutcomes();
    expect(limits.map((o) => o.action)).toEqual([4, 5, 6, 7, 8, 9, 10]);
    expect(limits.reduce((sum, o) => sum + o.probability, 0)).toBeCloseTo(1, 12);
    expect(limits[3].probability).toBeGreaterThan(limits[0].probability); // the mode is at 6-7
    const pools = start.apply(4).chanceOutcomes();
    expect(pools).toHaveLength(216);
    const triples = start.apply(4).apply(0).chanceOutcomes();
    expect(triples).toHaveLength(1330);
    expect(triples.some((o) => o.action === 0)).toBe(false);
    expect(setUp().turn()).toEqual({ kind: 'player', player: 0 });
  });

  it('offers every proposal within the pool, Agree only after a proposal, and all 125 utterances', () => {
    const state = setUp();
    expect(state.legalActions(0)).toHaveLength(2 * 3 * 4);
    expect(state.legalActions(0)).not.toContain(AGREE);
    expect(state.legalActions(0)).not.toContain(proposal([2, 0, 0]));
    const uttering = state.apply(proposal([1, 0, 0]));
    expect(uttering.turn()).toEqual({ kind: 'player', player: 0 });
    expect(uttering.legalActions(0)).toHaveLength(125);
    const answering = uttering.apply(quiet);
    expect(answering.turn()).toEqual({ kind: 'player', player: 1 });
    expect(answering.legalActions(1)).toContain(AGREE);
  });

  it("pays on agreement: the proposer its values of its proposal, the acceptor its values of the rest", () => {
    const end = play(setUp(), [proposal([1, 0, 0]), quiet, AGREE]);
    expect(end.turn()).toEqual({ kind: 'terminal' });
    expect(end.returns()).toEqual([1 * 1, 2 * 2 + 1 * 3]);
    const countered = play(setUp(), [proposal([1, 0, 0]), quiet, proposal([1, 2, 0]), quiet, AGREE]);
    expect(countered.returns()).toEqual([0 * 1 + 0 * 2 + 3 * 3, 3 * 1 + 2 * 2]); // player 1 authored [1, 2, 0]
  });

  it('ends without agreement 0/0 once the last allowed proposer has made its utterance', () => {
    const turns = [proposal([1, 0, 0]), quiet, proposal([0, 1, 0]), quiet, proposal([0, 0, 1]), quiet, proposal([1, 1, 1])];
    const lastProposal = play(setUp(4), turns);
    expect(lastProposal.turn()).toEqual({ kind: 'player', player: 1 });
    const end = lastProposal.apply(quiet);
    expect(end.turn()).toEqual({ kind: 'terminal' });
    expect(end.returns()).toEqual([0, 0]);
  });

  it("shows pool, own values and the last proposal; hides the other player's values and the step limit", () => {
    const a = play(setUp(4, [3, 2, 1]), [proposal([1, 0, 0]), utterance([1, 2, 3])]);
    const b = play(setUp(9, [0, 0, 7]), [proposal([1, 0, 0]), utterance([1, 2, 3])]);
    expect(a.observationString(0)).toBe(b.observationString(0));
    expect(a.observationString(1)).not.toBe(b.observationString(1));
    expect(a.observationString(1)).toContain('Pool: 1 peppers, 2 strawberries, 3 cherries.');
    expect(a.observationString(1)).toContain('Your values per item: peppers 3, strawberries 2, cherries 1.');
    expect(a.observationString(1)).toContain("Most recent proposal (your opponent's): [1, 0, 0].");
    expect(a.observationString(1)).toContain("Most recent utterance (your opponent's): [1, 2, 3].");
  });

  it('parses agree as the highest legal action and triples capped at 5 (proposals) or 4 (utterances)', () => {
    const first = setUp();
    expect(parseNegotiationMove('<Agree>', first, 0)).toMatchObject({ ok: true, action: proposal([1, 2, 3]) }); // no proposal yet: whole pool
    expect(parseNegotiationMove('<Proposal: [1, 2, 0]>', first, 0)).toMatchObject({ ok: true, action: proposal([1, 2, 0]) });
    expect(parseNegotiationMove('[0,2 ,  3]', first, 0)).toMatchObject({ ok: true, action: proposal([0, 2, 3]) });
    expect(makeNegotiationParser({ strictSeparators: true })('[0,2,3]', first, 0)).toMatchObject({ ok: false });
    expect(parseNegotiationMove('[9, 0, 0]', first, 0)).toMatchObject({ ok: false, reason: '[9, 0, 0] asks for more than the pool holds' });
    expect(parseNegotiationMove('[1, 9, 3]', play(setUp(), []), 0)).toMatchObject({ ok: false });
    const uttering = first.apply(proposal([1, 0, 0]));
    expect(parseNegotiationMove('<Utterance: [7, 0, 1]>', uttering, 0)).toMatchObject({ ok: true, action: utterance([4, 0, 1]) });
    expect(parseNegotiationMove('I agree', uttering, 0)).toMatchObject({ ok: false, reason: 'agree is not an utterance' });
    const answering = uttering.apply(quiet);
    expect(parseNegotiationMove('[1, 1, 1] ... fine, AGREE', answering, 1)).toMatchObject({ ok: true, action: AGREE });
    expect(parseNegotiationMove('no idea', answering, 1)).toMatchObject({ ok: false, reason: 'no <Agree> and no [a, b, c] triple' });
  });
});
