import type { GameFinishedPayload } from '@recon/games';
import {
  completeInfoResults,
  gtbenchResults,
  problemSuiteBaselines,
  problemSuiteResults,
} from './suite-results';
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

  it('problem suites: both graders counted when every item carries both verdicts', () => {
    const results = problemSuiteResults('held-out', [
      { category: 'c', gold: 'Option 1: U', correct: false, verdicts: { exact: false, paper: true } },
      { category: 'c', gold: 'Option 2: D', correct: true, verdicts: { exact: true, paper: true } },
    ]);
    expect(results).toMatchObject({
      'held-out.correct': 1,
      'held-out.exact.correct': 1,
      'held-out.paper.correct': 2,
    });
    expect(
      problemSuiteResults('held-out', [{ category: 'c', gold: 'Yes', correct: true }]),
    ).not.toHaveProperty('held-out.exact.correct');
  });

  it('answer baselines: majority texts counted on the training split and the first option, answered on the evaluated items, overall and per category', () => {
    const prompt = (options: string[]) => `Q? ${options.map((o, i) => `Option ${i + 1}: ${o}`).join('; ')}`;
    const train = {
      name: 'curriculum-train',
      split: 'train',
      items: [
        { category: 'trigger', gold: 'Option 2: defect' },
        { category: 'trigger', gold: 'Option 1: defect' },
        { category: 'trigger', gold: 'Option 1: cooperate' },
        { category: 'nash', gold: 'Yes' },
        { category: 'nash', gold: 'No' },
        { category: 'nash', gold: 'No' },
        { category: 'nash', gold: 'No' },
        // Game-move practice in training: not an evaluated category, so it does not count.
        ...Array.from({ length: 9 }, () => ({ category: 'game_move', gold: 'choice_1' })),
      ],
    };
    // In the test items "defect" sits at another position than in training, and one test category is new.
    const test = [
      { category: 'trigger', gold: 'Option 2: defect', prompt: prompt(['cooperate', 'defect']) },
      { category: 'trigger', gold: 'Option 1: cooperate', prompt: prompt(['cooperate', 'defect']) },
      { category: 'nash', gold: 'No', prompt: 'Is there a pure NE?' },
      { category: 'unseen', gold: 'Option 1: x', prompt: prompt(['x', 'y']) },
    ];
    expect(problemSuiteBaselines('held-out', train, test)).toEqual([
      {
        suite: 'held-out',
        name: 'global-majority',
        computedOn: '`curriculum-train` (its 7 rows in the evaluated categories, of 16; train split)',
        answers: { '*': 'No' },
        items: 4,
        correct: { exact: 1, paper: 1 },
        byCategory: {
          nash: { items: 1, correct: { exact: 1, paper: 1 } },
          trigger: { items: 2, correct: { exact: 0, paper: 0 } },
          unseen: { items: 1, correct: { exact: 0, paper: 0 } },
        },
      },
      {
        suite: 'held-out',
        name: 'category-majority',
        computedOn: '`curriculum-train` (its 7 rows in the evaluated categories, of 16; train split)',
        answers: { nash: 'No', trigger: 'defect' },
        items: 4,
        correct: { exact: 2, paper: 2 },
        byCategory: {
          nash: { items: 1, correct: { exact: 1, paper: 1 } },
          trigger: { items: 2, correct: { exact: 1, paper: 1 } },
          unseen: { items: 1, correct: { exact: 0, paper: 0 } },
        },
      },
      {
        // Always the first option listed: right wherever the gold is Option 1, nothing where no option is listed.
        suite: 'held-out',
        name: 'first-option',
        computedOn: 'the evaluated prompts (the first option each lists)',
        answers: {},
        items: 4,
        correct: { exact: 2, paper: 2 },
        byCategory: {
          nash: { items: 1, correct: { exact: 0, paper: 0 } },
          trigger: { items: 2, correct: { exact: 1, paper: 1 } },
          unseen: { items: 1, correct: { exact: 1, paper: 1 } },
        },
      },
    ]);
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
