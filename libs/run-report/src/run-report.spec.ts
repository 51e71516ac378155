import type { RecordedEvent } from '@recon/eventlog';
import { buildRunReport, quarterMeans } from './run-report';

/** Just what the report reads of a recorded event. */
function grpoSteps(rewards: number[]): RecordedEvent[] {
  return rewards.map(
    (rewardMean, i) =>
      ({
        type: 'grpo.step.completed',
        occurredAt: '2026-01-01T00:00:00.000Z',
        payload: {
          step: i + 1,
          loss: 0,
          learningRate: 1e-5,
          gradNorm: 1,
          rewardMean,
          rewardStd: 0,
          kl: 0.01,
          metrics: {},
        },
      }) as unknown as RecordedEvent,
  );
}

const rewardLine = (report: string) => report.split('\n').find((line) => line.startsWith('GRPO reward mean'));

describe('quarterMeans', () => {
  it('averages the first and last quarter of a series, at least one value each', () => {
    expect(quarterMeans([1, 2, 3, 4, 5, 6, 7, 8])).toEqual({ size: 2, first: 1.5, last: 7.5 });
    expect(quarterMeans([1, 2, 3, 4, 5, 6, 7, 8, 9])).toEqual({ size: 2, first: 1.5, last: 8.5 });
    expect(quarterMeans([4, 9])).toEqual({ size: 1, first: 4, last: 9 });
  });
});

describe('run report: the GRPO reward trend', () => {
  it('compares the means of the first and last quarter of steps, not two single noisy steps', () => {
    // Single steps would say 0.90 → 0.10; the quarters say the reward rose.
    const rewards = [0.9, 0.1, 0.1, 0.1, 0.3, 0.4, 0.4, 0.5, 0.6, 0.7, 0.8, 0.1];
    expect(rewardLine(buildRunReport('r', grpoSteps(rewards)))).toMatch(
      /^GRPO reward mean \(12 steps; mean of the first quarter, steps 1–3: 0\.37 → mean of the last quarter, steps 10–12: 0\.53\): `.+`$/,
    );
  });

  it('says so when there are too few steps for quarters', () => {
    expect(rewardLine(buildRunReport('r', grpoSteps([0.2, 0.6])))).toMatch(
      /^GRPO reward mean \(2 step\(s\), too few for quarter means; first step 0\.20 → last step 0\.60\): `.+`$/,
    );
  });
});

const at = '2026-01-01T00:00:00.000Z';
const recorded = (type: string, payload: object) =>
  ({ type, occurredAt: at, payload }) as unknown as RecordedEvent;

/** A v2 item: both verdicts recorded, `correct` the held-out headline (exact). */
const item = (
  stage: string,
  i: number,
  exact: boolean,
  paper: boolean,
  completion = `\\boxed{Option 1: U}`,
) =>
  recorded('evaluation.item.scored', {
    suite: 'held-out',
    stage,
    itemId: `test/compact/trigger/${i}`,
    category: i % 2 === 0 ? 'trigger' : 'pure_nash',
    completion,
    parsedAnswer: 'Option 1: U',
    gold: 'Option 1: U',
    correct: exact,
    verdicts: { exact, paper },
  });

const trial = (
  stage: string,
  game: string,
  outcome: 'equilibrium' | 'non-equilibrium' | 'invalid',
  k: number,
) =>
  recorded('game.finished', {
    matchId: `r/${stage}/${game}/self-play/${k}`,
    game,
    suite: 'complete-information',
    stage,
    opponent: 'self-play',
    agentSeat: -1,
    seed: k,
    returns: [],
    outcome,
    status: 'normal',
    invalidCount: outcome === 'invalid' ? 1 : 0,
    retries: 0,
    invalidPolicy: 'forfeit',
  });

const reply = (stage: string, game: string, k: number, legal: boolean, rawText: string) =>
  recorded('game.move', {
    matchId: `r/${stage}/${game}/self-play/${k}`,
    game,
    ply: 0,
    actor: 'agent',
    seat: 0,
    rawText,
    parsedMove: legal ? 'choice_1' : null,
    action: legal ? 0 : null,
    legal,
    attempt: 0,
  });

const match = (
  stage: string,
  status: 'normal' | 'abnormal',
  outcome: 'win' | 'loss' | 'abnormal',
  k: number,
) =>
  recorded('game.finished', {
    matchId: `r/${stage}/nim/random/${k}`,
    game: 'nim',
    suite: 'gtbench',
    stage,
    opponent: 'random',
    agentSeat: 0,
    seed: k,
    returns: [0, 0],
    outcome,
    status,
    invalidCount: 0,
    retries: 0,
    invalidPolicy: 'abnormal',
  });

function evaluatedRun(): RecordedEvent[] {
  const baselines = [
    {
      suite: 'held-out',
      name: 'global-majority',
      computedOn: '`curriculum-train` (100 rows, train split)',
      answers: { '*': 'No' },
      items: 4,
      correct: { exact: 0, paper: 0 },
    },
    {
      suite: 'held-out',
      name: 'category-majority',
      computedOn: '`curriculum-train` (100 rows, train split)',
      answers: { trigger: 'defect', pure_nash: '[[0, 1]]' },
      items: 4,
      correct: { exact: 1, paper: 2 },
    },
  ];
  const completed = (stage: string) =>
    recorded('evaluation.completed', {
      stage,
      checkpointHash: stage,
      results: { 'held-out.items': 4, 'held-out.majorityBaseline': 0.5 },
      baselines,
    });
  return [
    recorded('run.requested', { name: 'mini', config: { evaluation: { heldOut: { items: 4 } } }, seed: 1 }),
    recorded('dataset.resolved', {
      datasets: [
        {
          role: 'grpo',
          name: 'curriculum-train',
          versionHash: 'a'.repeat(64),
          blobHash: 'a'.repeat(64),
          split: 'train',
          rowCount: 100,
        },
        {
          role: 'eval',
          name: 'curriculum-test',
          versionHash: 'b'.repeat(64),
          blobHash: 'b'.repeat(64),
          split: 'test',
          rowCount: 6,
        },
      ],
    }),
    ...[0, 1, 2, 3].map((i) => item('untrained', i, false, false, '<|assistant|>garbage')),
    // sft: item 0 right; item 1 names option 1 with another option's text (paper's grader only); 2, 3 wrong.
    item('sft', 0, true, true),
    item('sft', 1, false, true, '<think>x</think> \\boxed{Option 1: D}'),
    item('sft', 2, false, false),
    item('sft', 3, false, false),
    // grpo: items 0 and 2 right under both.
    ...[0, 1, 2, 3].map((i) => item('grpo', i, i % 2 === 0, i % 2 === 0)),
    ...[0, 1, 2].map((k) => trial('untrained', "Prisoner's Dilemma", 'invalid', k)),
    ...[0, 1, 2].map((k) => reply('untrained', "Prisoner's Dilemma", k, false, 'zzz')),
    trial('sft', "Prisoner's Dilemma", 'equilibrium', 0),
    trial('sft', "Prisoner's Dilemma", 'non-equilibrium', 1),
    trial('sft', "Prisoner's Dilemma", 'invalid', 2),
    reply('sft', "Prisoner's Dilemma", 0, true, 'choice_2'),
    reply('sft', "Prisoner's Dilemma", 2, false, 'choice_9'),
    ...[0, 1, 2].map((k) => trial('grpo', "Prisoner's Dilemma", 'non-equilibrium', k)),
    match('untrained', 'abnormal', 'abnormal', 0),
    match('untrained', 'abnormal', 'abnormal', 1),
    match('sft', 'normal', 'win', 0),
    match('sft', 'abnormal', 'abnormal', 1),
    completed('untrained'),
    completed('sft'),
    completed('grpo'),
  ];
}

const section = (report: string, title: string) => {
  const start = report.indexOf(`## ${title}`);
  const end = report.indexOf('\n## ', start + 3);
  return report.slice(start, end < 0 ? undefined : end);
};

describe('run report: table 3 under the strict and the paper grader', () => {
  const report = buildRunReport('r', evaluatedRun());
  const table3 = section(report, 'Table 3');

  it('shows each stage under both graders with n and a Wilson interval, and the rule of each', () => {
    expect(table3).toContain('| untrained | 0.0% [0.0, 49.0] | 0 / 4 | 0.0% [0.0, 49.0] | 0 / 4 |');
    // `\boxed{Option 1: D}` for gold `Option 1: U` is right for the paper's grader only.
    expect(table3).toContain('| sft | 25.0% [4.6, 69.9] | 1 / 4 | 50.0% [15.0, 85.0] | 2 / 4 |');
    expect(table3).toContain('| grpo | 50.0% [15.0, 85.0] | 2 / 4 | 50.0% [15.0, 85.0] | 2 / 4 |');
    expect(table3).toMatch(/\*\*strict\*\* \(`exactAnswerGrade`\): the final answer .+ exactly/);
    expect(table3).toMatch(
      /\*\*paper's grader\*\* \(`paperEvalGrade`, lenient\).+`\\boxed\{Option 1: D\}` counts for gold `Option 1: U`/,
    );
  });

  it('shows the majority baselines counted on the training split, under both graders, and the positional one labelled', () => {
    expect(table3).toContain(
      '| baseline: global majority answer | 0.0% [0.0, 49.0] | 0 / 4 | 0.0% [0.0, 49.0] | 0 / 4 |',
    );
    expect(table3).toContain(
      '| baseline: per-category majority answer | 25.0% [4.6, 69.9] | 1 / 4 | 50.0% [15.0, 85.0] | 2 / 4 |',
    );
    expect(table3).toMatch(
      /\| baseline: always the most common gold position \("Option k", counted on the evaluated golds\) \| not defined .+ \| – \| 50\.0% \[15\.0, 85\.0\] \| 2 \/ 4 \|/,
    );
    expect(table3).toContain('counted on `curriculum-train` (100 rows, train split)');
    expect(table3).toContain('Per-category majority answers: trigger → "defect"; pure_nash → "[[0, 1]]".');
  });

  it('explains why fewer items were evaluated than the eval set holds', () => {
    expect(table3).toContain(
      'Evaluated: 4 of the 6 rows of `curriculum-test` at each stage — `evaluation.heldOut.items: 4` took the first 4 rows (recorded before subsets were drawn stratified by category',
    );
  });

  it('gives the paired change between stages under each grader', () => {
    expect(table3).toMatch(
      /- strict: untrained → sft: \+25\.0 points \[.+\] on 4 paired items \(1 gained, 0 lost/,
    );
    expect(table3).toMatch(
      /- paper's grader: untrained → sft: \+50\.0 points \[.+\] on 4 paired items \(2 gained, 0 lost/,
    );
    expect(table3).toMatch(/- strict: sft → grpo: \+25\.0 points/);
    expect(table3).toMatch(/- paper's grader: sft → grpo: \+0\.0 points/);
  });

  it('breaks accuracy down by category under both graders, with intervals and the baselines golds give', () => {
    // A run from before per-category baselines were recorded: "always Option 1" from the golds (paper's grader).
    expect(table3).toContain(
      '| pure_nash | 2 | 0.0% / 0.0% [0.0, 65.8] | 0.0% / 50.0% [0.0, 65.8] | 0.0% / 0.0% [0.0, 65.8] | – | – / 100.0% | Option 1: 100.0% | ⚠ always Option 1 100.0% |',
    );
  });

  it('says the strict grade is unavailable for a run recorded before both verdicts were kept', () => {
    const old = evaluatedRun()
      .filter((e) => e.type !== 'evaluation.completed')
      .map((e) => {
        if (e.type !== 'evaluation.item.scored') return e;
        const { verdicts: _dropped, ...v1 } = e.payload as { verdicts: unknown };
        return { ...e, payload: v1 } as RecordedEvent;
      });
    const legacy = section(buildRunReport('old', old), 'Table 3');
    expect(legacy).toContain('| sft | unavailable | – | unavailable | – |');
    expect(legacy).toMatch(
      /Strict grade unavailable for untrained, sft, grpo: .+ Recorded accuracy then \(option-number grader `strictGrade`.+\): untrained 0\.0% \[0\.0, 49\.0\], n = 4; sft 25\.0%/,
    );
    expect(legacy).toContain('Majority-answer baselines: unavailable');
    expect(legacy).toMatch(/Change between stages on the same items \(recorded grader/);
  });
});

describe('run report: games, samples and charts', () => {
  const report = buildRunReport('r', evaluatedRun(), { chartBase: 'r' });

  it('collapses a stage with only invalid trials into one line and compares the rest with random play', () => {
    const table4 = section(report, 'Table 4');
    expect(table4).toContain('- untrained: all 3 trials invalid (no valid move)');
    expect(table4).toMatch(
      /- grpo: 0 of 3 trials ended in a pure NE \(95% CI 0\.0% \[0\.0, 56\.1\]; 0 invalid\)/,
    );
    expect(table4).toContain(
      '| game | trials per stage | random legal play (exact) | sft: rate [95% CI] (invalid) |',
    );
    expect(table4).toContain("| Prisoner's Dilemma | 3 | 25.0% | 0.33 [0.06, 0.79] (1 inv) |");
    expect(table4).toContain('| **pooled** | 3 | 25.0% | 0.33 [0.06, 0.79] (1 inv) |');
    // Prisoner's Dilemma alone: no sequential game whose Nash outcomes differ from its subgame-perfect path.
    expect(table4).not.toContain('non-credible threats');
    expect(table4).toMatch(
      /Free-form valid-move rate .+: untrained 0\.0% \[0\.0, 56\.1\] of 3 replies; sft 50\.0% \[9\.5, 90\.5\] of 2 replies\./,
    );
  });

  it('puts the random-play rate of sequential games beside the looser Nash-outcome reading', () => {
    const events = [
      trial('sft', 'Monopoly', 'equilibrium', 0),
      trial('sft', 'Trigame', 'non-equilibrium', 0),
    ];
    const table4 = section(buildRunReport('r', events), 'Table 4');
    expect(table4).toContain('| Monopoly | 1 | 25.0% | 1.00 [0.21, 1.00] (0 inv) |');
    expect(table4).toContain('| Trigame | 1 | 12.5% | 0.00 [0.00, 0.79] (0 inv) |');
    expect(table4).toContain('| **pooled** | 2 | 18.8% | 0.50 [0.09, 0.91] (0 inv) |');
    expect(table4).toContain(
      '(Monopoly 75.0% instead of 25.0%, Trigame 25.0% instead of 12.5%), random play would score 50.0% pooled',
    );
  });

  it('collapses a stage whose GTBench matches were all abnormal', () => {
    const table5 = section(report, 'Table 5');
    expect(table5).toContain('- untrained: all 2 matches abnormal (no valid move)');
    expect(table5).toContain('| nim | random | 2 | 0.50 [0.09, 0.91] (1) |');
  });

  it('shows a right and a wrong completion and a game reply per stage, and links the charts', () => {
    const samples = section(report, 'Sample completions');
    expect(samples).toContain('### sft');
    expect(samples).toMatch(/- graded right \(held-out `test\/compact\/trigger\/0`/);
    // The wrong one shown is the one the graders disagree on.
    expect(samples).toMatch(
      /- graded wrong \(held-out `test\/compact\/trigger\/1`.+strict wrong, paper's grader right\):\n\n```text\n<think>x<\/think> \\boxed\{Option 1: D\}\n```/,
    );
    expect(samples).toMatch(
      /- game reply \(Prisoner's Dilemma, ply 0, attempt 0; parsed as choice_1; 1 of 2 game replies at this stage legal\):\n\n```text\nchoice_2\n```/,
    );
    expect(section(buildRunReport('r', grpoSteps([0.1, 0.2])), 'Training')).not.toContain('.svg');
    expect(section(buildRunReport('r', grpoSteps([0.1, 0.2]), { chartBase: 'r' }), 'Training')).toContain(
      '![GRPO reward mean per step](r.grpo-reward.svg)',
    );
  });

  it('keeps the start and the end of a long completion', () => {
    const long = `<think>${'x'.repeat(2000)}</think> \\boxed{Option 1: U}`;
    const events = [item('sft', 0, true, true, long)];
    const samples = section(buildRunReport('r', events), 'Sample completions');
    expect(samples).toMatch(
      /<think>x+ … \[1\d{3} characters omitted\] … x+<\/think> \\boxed\{Option 1: U\}\n```/,
    );
  });
});
