import type { GameFinishedPayload } from '@recon/games';
import { completeInfoResults, gtbenchResults, problemSuiteResults } from './suite-results';
import { headlineResults } from './external/external-evaluation';

const finished = (
  outcome: GameFinishedPayload['outcome'],
  extra: Partial<GameFinishedPayload> = {},
): GameFinishedPayload => ({
  matchId: 'm',
  game: 'g',
  suite: 'gtbench',
  stage: 'external',
  opponent: 'random',
  agentSeat: 0,
  seed: 1,
  returns: [0, 0],
  outcome,
  status: outcome === 'abnormal' ? 'abnormal' : 'normal',
  invalidCount: 0,
  retries: 0,
  invalidPolicy: 'abnormal',
  ...extra,
});

describe('suite headline numbers', () => {
  it('problem suites: accuracy, interval, majority baseline and per-category cells', () => {
    const results = problemSuiteResults('recon-eval', [
      { category: 'Pure Nash', gold: 'A', correct: true },
      { category: 'Pure Nash', gold: 'A: up', correct: false },
      { category: 'Bayes Nash', gold: 'B', correct: true },
      { category: 'Bayes Nash', gold: 'A', correct: false },
    ]);
    expect(results).toMatchObject({
      'recon-eval.items': 4,
      'recon-eval.correct': 2,
      'recon-eval.accuracy': 0.5,
      'recon-eval.majorityBaseline': 0.75,
      'recon-eval.category.Pure Nash.accuracy': 0.5,
      'recon-eval.category.Bayes Nash.items': 2,
    });
    expect(results['recon-eval.accuracy.low']).toBeLessThan(0.5);
    expect(results['recon-eval.accuracy.high']).toBeGreaterThan(0.5);
    expect(problemSuiteResults('held-out', [])['held-out.accuracy']).toBe(0);
  });

  it('complete-information: NE frequency per game and overall', () => {
    const results = completeInfoResults([
      {
        game: 'pd',
        finished: [finished('equilibrium', { paretoOptimalEquilibrium: true }), finished('invalid')],
      },
      { game: 'bos', finished: [finished('non-equilibrium')] },
    ]);
    expect(results).toMatchObject({
      'complete-info.pd.ne': 0.5,
      'complete-info.pd.trials': 2,
      'complete-info.pd.invalid': 1,
      'complete-info.bos.ne': 0,
      'complete-info.overall.trials': 3,
      'complete-info.overall.invalid': 1,
    });
    expect(results['complete-info.overall.ne']).toBeCloseTo(1 / 3);
    expect(results['complete-info.overall.paretoNe']).toBeCloseTo(1 / 3);
  });

  it('gtbench: per cell under the requested opponent name, and overall per opponent', () => {
    const results = gtbenchResults([
      { game: 'nim', opponent: 'random', finished: [finished('win'), finished('abnormal')] },
      { game: 'pig', opponent: 'random', finished: [finished('loss')] },
      {
        game: 'prisoners_dilemma',
        opponent: 'mcts',
        finished: [finished('draw', { opponent: 'tit-for-tat' })],
      },
    ]);
    expect(results).toMatchObject({
      'gtbench.nim.random.winRate': 0.5,
      'gtbench.nim.random.abnormal': 1,
      'gtbench.nim.random.matches': 2,
      'gtbench.prisoners_dilemma.mcts.draws': 1,
      'gtbench.overall.random.matches': 3,
      'gtbench.overall.random.abnormal': 1,
      'gtbench.overall.mcts.matches': 1,
    });
    expect(results['gtbench.overall.random.winRate']).toBeCloseTo(1 / 3);
    expect(
      Object.keys(
        headlineResults({ ...results, 'recon-eval.accuracy': 1, 'recon-eval.category.x.accuracy': 1 }),
      ).sort(),
    ).toEqual(
      [...Object.keys(results).filter((k) => k.startsWith('gtbench.overall.')), 'recon-eval.accuracy'].sort(),
    );
  });
});
