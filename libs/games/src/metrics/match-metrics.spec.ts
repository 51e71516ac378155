import { validatePayload, type PayloadOf } from '@recon/contracts';
import { equilibriumFrequency, winRate } from './match-metrics';

type Finished = PayloadOf<'game.finished'>;

const record = (i: number, outcome: Finished['outcome'], extra: Partial<Finished> = {}): Finished =>
  validatePayload('game.finished', 1, {
    matchId: `m${i}`,
    game: 'tictactoe',
    suite: 'gtbench',
    stage: 'grpo',
    opponent: 'mcts',
    agentSeat: i % 2,
    seed: i,
    returns: [0, 0],
    outcome,
    status: outcome === 'abnormal' ? 'abnormal' : 'normal',
    invalidCount: outcome === 'abnormal' ? 1 : 0,
    retries: 0,
    invalidPolicy: 'abnormal',
    ...extra,
  });

describe('winRate', () => {
  it('counts W/D/L/Abnormal, the headline over all matches, the Normal-only rate and NRA (a)', () => {
    const outcomes: Finished['outcome'][] = ['win', 'win', 'win', 'win', 'draw', 'draw', 'loss', 'loss', 'loss', 'abnormal'];
    const report = winRate(outcomes.map((o, i) => record(i, o)));
    expect(report).toMatchObject({ matches: 10, wins: 4, draws: 2, losses: 3, abnormal: 1, invalidReplies: 1 });
    expect(report.winRate.rate).toBe(0.4);
    expect(report.winRate.trials).toBe(10);
    expect(report.normalOnlyWinRate.rate).toBeCloseTo(4 / 9, 12);
    expect(report.nra).toEqual({ scoreFunction: 'a: win 1, draw 0.5, loss 0', value: 1 / 9 });
  });

  it('has no NRA when every match is abnormal, and refuses mixed cells', () => {
    expect(winRate([record(0, 'abnormal')]).nra.value).toBeNull();
    expect(() => winRate([record(0, 'win'), record(1, 'win', { opponent: 'random' })])).toThrow(/record 1 \(m1\).*random/);
    expect(() => winRate([])).toThrow(/no matches/);
  });
});

describe('equilibriumFrequency', () => {
  it('counts invalid trials as misses, PO-NE only among equilibria', () => {
    const base = { game: 'Stag Hunt', suite: 'complete-information' as const, opponent: 'self-play', agentSeat: -1 };
    const rows = [
      record(0, 'equilibrium', { ...base, paretoOptimalEquilibrium: true }),
      record(1, 'equilibrium', { ...base, paretoOptimalEquilibrium: false }),
      record(2, 'non-equilibrium', { ...base, paretoOptimalEquilibrium: false }),
      record(3, 'invalid', { ...base, status: 'normal', invalidCount: 6, retries: 5 }),
    ];
    const report = equilibriumFrequency(rows);
    expect(report.equilibrium).toMatchObject({ successes: 2, trials: 4, rate: 0.5 });
    expect(report.paretoOptimalEquilibrium).toMatchObject({ successes: 1, trials: 4 });
    expect(report).toMatchObject({ invalidTrials: 1, invalidReplies: 6, retries: 5 });
    expect(() => equilibriumFrequency([record(0, 'win')])).toThrow(/outcome 'win'/);
  });
});
