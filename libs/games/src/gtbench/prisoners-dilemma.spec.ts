import { ITERATED_PRISONERS_DILEMMA as IPD, IPD_SILENT as SILENT, IPD_TESTIFY as TESTIFY, parsePrisonersDilemmaMove, prisonersDilemmaRounds } from './prisoners-dilemma';

const CONTINUE = 0;
const STOP = 1;

describe('prisoners_dilemma (iterated)', () => {
  it('plays simultaneous rounds, each followed by a chance node that stops with probability 0.125', () => {
    const start = IPD.initialState();
    expect(start.turn()).toEqual({ kind: 'simultaneous', players: [0, 1] });
    expect(start.legalActions(0)).toEqual([SILENT, TESTIFY]);
    expect(start.legalActions(1)).toEqual([SILENT, TESTIFY]);
    expect(() => start.apply(SILENT)).toThrow(/applyJoint/);
    const played = start.applyJoint([SILENT, TESTIFY]);
    expect(played.turn()).toEqual({ kind: 'chance' });
    expect(played.chanceOutcomes()).toEqual([{ action: CONTINUE, probability: 0.875 }, { action: STOP, probability: 0.125 }]);
    expect(() => played.applyJoint([SILENT, SILENT])).toThrow(/no round/);
  });

  it('pays 5/5, 0/10, 10/0, 1/1 per round as running sums, and ends on stop', () => {
    let state = IPD.initialState().applyJoint([SILENT, SILENT]).apply(CONTINUE);
    expect(state.returns()).toEqual([5, 5]);
    state = state.applyJoint([SILENT, TESTIFY]).apply(CONTINUE).applyJoint([TESTIFY, SILENT]).apply(CONTINUE);
    expect(state.returns()).toEqual([15, 15]);
    state = state.applyJoint([TESTIFY, TESTIFY]).apply(STOP);
    expect(state.turn()).toEqual({ kind: 'terminal' });
    expect(state.returns()).toEqual([16, 16]);
    expect(prisonersDilemmaRounds(state)).toEqual([[0, 0], [0, 1], [1, 0], [1, 1]]);
  });

  it('shows each seat the true history of both sides', () => {
    const state = IPD.initialState().applyJoint([SILENT, TESTIFY]).apply(CONTINUE);
    expect(state.observationString(0)).toContain('round 1: you <Silent>, your opponent <Testify>');
    expect(state.observationString(1)).toContain('round 1: you <Testify>, your opponent <Silent>');
    expect(IPD.initialState().observationString(0)).toContain('This is the first round.');
  });

  it('parses the last <Silent> or <Testify>', () => {
    const start = IPD.initialState();
    expect(parsePrisonersDilemmaMove('<Testify> no, <Silent>', start, 1)).toMatchObject({ ok: true, action: SILENT });
    expect(parsePrisonersDilemmaMove('Testify', start, 0)).toMatchObject({ ok: false, reason: 'no move of the form <Silent> or <Testify>' });
    const waiting = start.applyJoint([SILENT, SILENT]);
    expect(parsePrisonersDilemmaMove('<Silent>', waiting, 0)).toMatchObject({ ok: false, reason: 'no round is being played' });
  });
});
