import type { EvaluationSample, EventType, PayloadOf } from '@recon/contracts';
import { tagProblem } from '@recon/econ';
import { deterministicEventId } from '@recon/eventlog';
import { parseExperimentConfig, type ExperimentConfig } from '@recon/experiment';
import { deriveSeed, type GameEvent } from '@recon/games';
import {
  categoryOf,
  decide,
  drawProblemSuite,
  evolve,
  gameEvent,
  GAME_SUITES_NEED_BUILTIN,
  initialEvaluationState,
  itemTokenBudget,
  scoreItem,
  type EvalRow,
  type EvaluationState,
  type PolicyReady,
  type ProblemSuitePlan,
  type ResolvedDataset,
  type RunEvent,
  type StagePlan,
  type SuiteOutcome,
} from './evaluation-process';

const RUN = 'run-1';
const hash = (c: string) => c.repeat(64);

/** A run's config: the scenario's evaluation section over a small curriculum run. */
function runConfig(evaluation: string, policy = '{ kind: builtin, dModel: 16, nLayers: 1, nHeads: 2 }') {
  return parseExperimentConfig(
    `
name: evaluation-process
seed: 7
datasets:
  curriculum: { trainItems: 10, testItems: 5 }
policy: ${policy}
sft: { steps: 1, batchSize: 2 }
grpo: { steps: 1, promptsPerStep: 2, numGenerations: 2 }
evaluation:
${evaluation}
`,
    'evaluation-process.yaml',
  );
}

const ALL_SUITES = `
  stages: [sft, grpo]
  maxNewTokens: 48
  heldOut: { items: 20, temperature: 0.3 }
  completeInformation: { trials: 1 }
  gtbench: { matches: 1, opponents: [random, mcts] }
`;

const dataset = (
  role: ResolvedDataset['role'],
  name: string,
  split: ResolvedDataset['split'],
  c: string,
): ResolvedDataset => ({ role, name, split, versionHash: hash(c), blobHash: hash(c), rowCount: 30 });
const SFT = dataset('sft', 'curriculum-train-traces', 'sft', '1');
const GRPO = dataset('grpo', 'curriculum-train', 'train', '2');
const TEST = dataset('eval', 'curriculum-test', 'test', '3');
const RECON_EVAL = dataset('eval', 'recon-eval', 'eval', '4');

const recorded = <T extends EventType>(type: T, payload: PayloadOf<T>) => ({ type, payload }) as RunEvent;
const resolved = (...datasets: ResolvedDataset[]) => recorded('dataset.resolved', { datasets });
const ready = (stage: 'untrained' | 'sft' | 'grpo'): PolicyReady => ({
  eventId: deterministicEventId(RUN, 'policy.ready', stage),
  payload: { stage, step: 1, checkpointHash: hash(stage === 'sft' ? 'a' : 'b'), final: stage === 'grpo' },
});

/** The state the worker folds from the run's recorded events. */
function given(config: ExperimentConfig, events: RunEvent[]): EvaluationState {
  return events.reduce(evolve, initialEvaluationState({ runId: RUN, config, seed: config.seed }));
}

function planOf(state: EvaluationState, stage: 'untrained' | 'sft' | 'grpo'): StagePlan {
  const evaluate = decide({ type: 'evaluate-stage', ready: ready(stage) }, state).find(
    (d) => d.type === 'evaluate',
  );
  if (evaluate?.type !== 'evaluate') throw new Error(`no evaluation of ${stage} was decided`);
  return evaluate.plan;
}

describe('evolve: what the run has recorded', () => {
  const config = runConfig(ALL_SUITES);

  it('pins the datasets of the first dataset.resolved', () => {
    const state = given(config, [resolved(SFT, GRPO, TEST), resolved(TEST)]);
    expect(state.datasets).toEqual([SFT, GRPO, TEST]);
    expect(state.ended).toBe(false);
  });

  it.each(['run.completed', 'run.failed'] as const)('marks the run ended on %s', (type) => {
    const end =
      type === 'run.completed'
        ? recorded(type, { summary: {} })
        : recorded(type, { phase: 'training', error: 'out of memory' });
    expect(given(config, [resolved(TEST), end]).ended).toBe(true);
  });

  it('is unchanged by events it does not read', () => {
    const before = given(config, [resolved(TEST)]);
    expect(evolve(before, recorded('policy.ready', ready('sft').payload))).toBe(before);
  });
});

describe('evaluate-stage: a delivered policy.ready', () => {
  it('given an evaluated stage, checks the GTBench opponents first, then plans every suite in order', () => {
    const config = runConfig(ALL_SUITES);
    const state = given(config, [resolved(SFT, GRPO, TEST)]);
    const decisions = decide({ type: 'evaluate-stage', ready: ready('sft') }, state);
    expect(decisions).toEqual([
      { type: 'check-opponents' },
      {
        type: 'evaluate',
        plan: {
          stage: 'sft',
          checkpointHash: hash('a'),
          policy: 'checkpoint',
          suites: [
            {
              kind: 'problems',
              suite: 'held-out',
              dataset: TEST,
              items: 20,
              drawSeed: deriveSeed(config.seed, 'eval-sample', 'held-out'),
              temperature: 0.3,
              maxNewTokens: 48,
              baselinesOn: GRPO,
            },
            { kind: 'complete-information' },
            { kind: 'gtbench', lanes: 'workers' },
          ],
        },
      },
    ]);
  });

  it('given a stage the config does not evaluate, only checks the opponents (a bad one fails the run early)', () => {
    const state = given(runConfig(ALL_SUITES), [resolved(SFT, GRPO, TEST)]);
    expect(decide({ type: 'evaluate-stage', ready: ready('untrained') }, state)).toEqual([
      { type: 'check-opponents' },
    ]);
  });

  it('given a stage the config does not evaluate and no GTBench suite, does nothing', () => {
    const state = given(runConfig('  stages: [grpo]\n  heldOut: { items: 5 }'), [resolved(TEST)]);
    expect(decide({ type: 'evaluate-stage', ready: ready('sft') }, state)).toEqual([]);
  });

  it('given a run that has ended, does nothing, not even the opponents check', () => {
    const state = given(runConfig(ALL_SUITES), [
      resolved(SFT, GRPO, TEST),
      recorded('run.failed', { phase: 'training', error: 'boom' }),
    ]);
    expect(decide({ type: 'evaluate-stage', ready: ready('grpo') }, state)).toEqual([]);
  });

  it('given two eval sets, plans one problem suite each, in the order the run resolved them, with their own settings', () => {
    const config = runConfig(`
  heldOut: { items: 20, temperature: 0.3 }
  reconEval: { items: 8, temperature: 0.7 }`);
    const suites = planOf(given(config, [resolved(SFT, RECON_EVAL, GRPO, TEST)]), 'untrained').suites;
    expect(suites).toEqual([
      expect.objectContaining({
        suite: 'recon-eval',
        dataset: RECON_EVAL,
        items: 8,
        temperature: 0.7,
        drawSeed: deriveSeed(config.seed, 'eval-sample', 'recon-eval'),
        baselinesOn: GRPO,
      }),
      expect.objectContaining({ suite: 'held-out', dataset: TEST, items: 20, temperature: 0.3 }),
    ]);
  });

  it("given Recon-Eval without settings of its own, takes heldOut's size and greedy decoding", () => {
    const suites = planOf(
      given(runConfig('  heldOut: { items: 12, temperature: 0.3 }'), [resolved(RECON_EVAL)]),
      'sft',
    ).suites;
    expect(suites).toEqual([expect.objectContaining({ suite: 'recon-eval', items: 12, temperature: 0.3 })]);
    const bare = planOf(given(runConfig('  reconEval: {}'), [resolved(RECON_EVAL)]), 'sft').suites;
    expect(bare).toEqual([
      expect.objectContaining({ suite: 'recon-eval', items: undefined, temperature: 0 }),
    ]);
  });

  it('given no training problems, plans no answer baselines', () => {
    const suites = planOf(given(runConfig('  heldOut: { items: 5 }'), [resolved(SFT, TEST)]), 'sft').suites;
    expect(suites).toEqual([expect.objectContaining({ suite: 'held-out', baselinesOn: undefined })]);
  });

  it('given an LLM or checkpoint opponent, plays GTBench one cell at a time', () => {
    const config = runConfig(`
  gtbench:
    matches: 1
    opponents: [random, { kind: checkpoint, stage: untrained }]`);
    expect(planOf(given(config, [resolved(TEST)]), 'sft').suites).toEqual([
      // An eval set is evaluated whole when the config names no size.
      expect.objectContaining({ kind: 'problems', suite: 'held-out', items: undefined }),
      { kind: 'gtbench', lanes: 'one' },
    ]);
  });

  it('given a pretrained policy, runs its problem suites and refuses the game suites where they would start', () => {
    const pretrained = '{ kind: pretrained, path: /models/qwen }';
    const plan = planOf(given(runConfig(ALL_SUITES, pretrained), [resolved(SFT, GRPO, TEST)]), 'grpo');
    expect(plan.policy).toBe('pretrained');
    expect(plan.suites.map((s) => s.kind)).toEqual(['problems', 'refused']);
    expect(plan.suites[1]).toEqual({ kind: 'refused', error: GAME_SUITES_NEED_BUILTIN });
    const problemsOnly = planOf(
      given(runConfig('  heldOut: { items: 5 }', pretrained), [resolved(TEST)]),
      'sft',
    );
    expect(problemsOnly.suites.map((s) => s.kind)).toEqual(['problems']);
  });

  it('given a redelivery after a restart mid-stage or after the stage completed, plans the same evaluation again', () => {
    const config = runConfig(ALL_SUITES);
    const first = decide(
      { type: 'evaluate-stage', ready: ready('sft') },
      given(config, [resolved(SFT, GRPO, TEST)]),
    );
    const item = scoreItem(
      RUN,
      'sft',
      'held-out',
      { messages: [], gold: 'yes', category: 'nash', index: 0 },
      'no',
    );
    const partly = given(config, [
      resolved(SFT, GRPO, TEST),
      recorded('evaluation.item.scored', item.event.payload as PayloadOf<'evaluation.item.scored'>),
    ]);
    const completed = given(config, [
      resolved(SFT, GRPO, TEST),
      recorded('evaluation.completed', {
        stage: 'sft',
        checkpointHash: hash('a'),
        results: {},
        baselines: [],
      }),
    ]);
    // Every event it records has the id and payload of the first time: the log keeps one of each.
    expect(decide({ type: 'evaluate-stage', ready: ready('sft') }, partly)).toEqual(first);
    expect(decide({ type: 'evaluate-stage', ready: ready('sft') }, completed)).toEqual(first);
  });
});

describe("complete-stage: the stage's result", () => {
  const state = given(runConfig(ALL_SUITES), [resolved(SFT, GRPO, TEST)]);
  const sample = (suite: string): EvaluationSample => ({
    suite,
    dataset: { name: suite, versionHash: hash('3') },
    method: 'all',
    of: 5,
    items: 5,
    seed: 1,
    byCategory: { nash: { sampled: 5, of: 5 } },
  });
  const baseline = (suite: string) => ({
    suite,
    name: 'first-option' as const,
    computedOn: 'the evaluated prompts (the first option each lists)',
    answers: {},
    items: 5,
    correct: { exact: 1, paper: 2 },
    byCategory: {},
  });

  it('records evaluation.completed with every suite’s numbers, baselines and samples, caused by the policy.ready', () => {
    const outcomes: SuiteOutcome[] = [
      {
        results: { 'recon-eval.accuracy': 0.25 },
        baselines: [baseline('recon-eval')],
        sample: sample('recon-eval'),
      },
      { results: { 'held-out.accuracy': 0.5 }, sample: sample('held-out') },
      { results: { 'complete-info.overall.ne': 0.1, 'held-out.accuracy': 0.75 } },
    ];
    expect(decide({ type: 'complete-stage', ready: ready('sft'), outcomes }, state)).toEqual([
      {
        type: 'append',
        events: [
          {
            eventId: deterministicEventId(RUN, 'evaluation.completed', 'sft'),
            type: 'evaluation.completed',
            causationId: ready('sft').eventId,
            payload: {
              stage: 'sft',
              checkpointHash: hash('a'),
              // A later suite's key replaces an earlier one's, as the suites ran.
              results: {
                'recon-eval.accuracy': 0.25,
                'held-out.accuracy': 0.75,
                'complete-info.overall.ne': 0.1,
              },
              baselines: [baseline('recon-eval')],
              samples: [sample('recon-eval'), sample('held-out')],
            },
          },
        ],
      },
    ]);
  });

  it('records no samples field when no problem suite ran', () => {
    const [decision] = decide(
      {
        type: 'complete-stage',
        ready: ready('grpo'),
        outcomes: [{ results: { 'gtbench.overall.random.winRate': 1 } }],
      },
      state,
    );
    expect(decision).toEqual({
      type: 'append',
      events: [
        expect.objectContaining({
          payload: {
            stage: 'grpo',
            checkpointHash: hash('b'),
            results: { 'gtbench.overall.random.winRate': 1 },
            baselines: [],
          },
        }),
      ],
    });
  });
});

describe('fail-stage: a failure while evaluating', () => {
  const state = given(runConfig(ALL_SUITES), [resolved(TEST)]);

  it('fails the run, naming the stage', () => {
    const error = new Error("opponent 'checkpoint:untrained' cannot play");
    expect(decide({ type: 'fail-stage', ready: ready('grpo'), error, connectionLost: false }, state)).toEqual(
      [
        {
          type: 'append',
          events: [
            {
              eventId: deterministicEventId(RUN, 'run.failed', 'evaluation', 'grpo'),
              type: 'run.failed',
              payload: { phase: 'evaluation:grpo', error: "opponent 'checkpoint:untrained' cannot play" },
            },
          ],
        },
      ],
    );
  });

  it('given a lost database, crashes instead: the restarted service evaluates the stage again', () => {
    const error = new Error('Connection terminated unexpectedly');
    expect(decide({ type: 'fail-stage', ready: ready('sft'), error, connectionLost: true }, state)).toEqual([
      { type: 'crash' },
    ]);
  });
});

describe("a problem suite's items", () => {
  const plan = (
    items: number | undefined,
    suite: 'held-out' | 'recon-eval' = 'held-out',
  ): ProblemSuitePlan => ({
    kind: 'problems',
    suite,
    dataset: TEST,
    items,
    drawSeed: 11,
    temperature: 0,
    maxNewTokens: 48,
    baselinesOn: undefined,
  });
  const rows: EvalRow[] = Array.from({ length: 12 }, (_, index) => ({
    index,
    itemId: `item-${index}`,
    category: index < 6 ? 'nash' : 'bayes',
    gold: 'Option 1: U',
    messages: [{ role: 'user', content: `problem ${index}` }],
  }));

  it('draws every row when the suite names no size, and a seeded stratified draw otherwise', () => {
    const all = drawProblemSuite(plan(undefined), rows);
    expect(all.items).toEqual(rows);
    expect(all.sample).toEqual(
      expect.objectContaining({
        suite: 'held-out',
        dataset: { name: TEST.name, versionHash: TEST.versionHash },
        method: 'all',
        of: 12,
        items: 12,
      }),
    );
    const drawn = drawProblemSuite(plan(4), rows);
    expect(drawn.items).toHaveLength(4);
    expect(drawn.sample).toEqual(
      expect.objectContaining({
        method: 'stratified',
        seed: 11,
        byCategory: { bayes: { sampled: 2, of: 6 }, nash: { sampled: 2, of: 6 } },
      }),
    );
    expect(drawProblemSuite(plan(4), rows).items).toEqual(drawn.items);
  });

  it('leaves the prompt and end token room in the completion budget', () => {
    expect(itemTokenBudget(plan(4), 32)).toBe(30);
    expect(itemTokenBudget(plan(4), 512)).toBe(48);
  });

  it("grades generated problems by the exact grader and Recon-Eval by the paper's, recording both verdicts", () => {
    // The right option number with the wrong text: wrong for the exact grader, right for the paper's.
    const completion = 'so \\boxed{Option 1: D}';
    const heldOut = scoreItem(RUN, 'sft', 'held-out', rows[0], completion);
    expect(heldOut.event).toEqual({
      eventId: deterministicEventId(RUN, 'evaluation.item.scored', 'sft', 'held-out', 'item-0'),
      type: 'evaluation.item.scored',
      payload: {
        suite: 'held-out',
        stage: 'sft',
        itemId: 'item-0',
        category: 'nash',
        completion,
        parsedAnswer: 'Option 1: D',
        gold: 'Option 1: U',
        correct: false,
        verdicts: { exact: false, paper: true },
      },
    });
    expect(heldOut.graded).toEqual({
      category: 'nash',
      gold: 'Option 1: U',
      correct: false,
      verdicts: { exact: false, paper: true },
    });
    expect(heldOut.evaluated).toEqual({ category: 'nash', gold: 'Option 1: U', prompt: 'problem 0' });
    const reconEval = scoreItem(RUN, 'sft', 'recon-eval', rows[0], completion);
    expect(reconEval.event.payload).toEqual(expect.objectContaining({ suite: 'recon-eval', correct: true }));
    expect(reconEval.event.eventId).not.toBe(heldOut.event.eventId);
  });

  it('names an item without an id by its row, tags a row without a category, and stores what it can', () => {
    const row: EvalRow = {
      index: 3,
      gold: 'Yes',
      messages: [
        { role: 'system', content: 'Answer in a box.' },
        { role: 'user', content: 'Is (U, L) a pure Nash equilibrium of this game?' },
      ],
    };
    const { event, evaluated } = scoreItem(RUN, 'untrained', 'recon-eval', row, 'no idea\u0000');
    const prompt = 'Answer in a box.\nIs (U, L) a pure Nash equilibrium of this game?';
    expect(categoryOf(row)).toBe(tagProblem(prompt));
    expect(event).toEqual(
      expect.objectContaining({
        eventId: deterministicEventId(RUN, 'evaluation.item.scored', 'untrained', 'recon-eval', 'row-3'),
        payload: expect.objectContaining({
          itemId: 'row-3',
          category: tagProblem(prompt),
          completion: 'no idea\ufffd',
          parsedAnswer: null,
          correct: false,
        }),
      }),
    );
    expect(evaluated.prompt).toBe(prompt);
  });
});

describe('game events', () => {
  it('are numbered by their place among the suite’s recorded game events', () => {
    const finished = { type: 'game.finished', payload: { matchId: 'm-1' } } as unknown as GameEvent;
    expect(gameEvent(RUN, 'grpo', finished, 4)).toEqual({
      eventId: deterministicEventId(RUN, 'game.finished', 'grpo', 'm-1', 4),
      type: 'game.finished',
      payload: { matchId: 'm-1' },
    });
    expect(gameEvent(RUN, 'grpo', finished, 5).eventId).not.toBe(gameEvent(RUN, 'grpo', finished, 4).eventId);
  });
});
