import type { EventType, PayloadOf } from '@recon/contracts';
import { deterministicEventId, type NewEvent } from '@recon/eventlog';
import { parseExperimentConfig } from '@recon/experiment';
import { deriveSeed } from '@recon/games';
import type { GrpoStepMetrics } from '@recon/policy';
import {
  checkFork,
  decide,
  evolve,
  forkStart,
  initialGrpoState,
  isGrpoInFlight,
  onHandlerError,
  resumePoint,
  sftReady,
  stagePlan,
  untrainedReady,
  type GrpoCommand,
  type GrpoDecision,
  type GrpoPlan,
  type GrpoState,
  type RunEvent,
} from './training-process';

const RUN = 'run-1';
const config = parseExperimentConfig(
  `
name: process
seed: 5
datasets:
  curriculum: { trainItems: 10, testItems: 5 }
policy: { kind: builtin, dModel: 16, nLayers: 1, nHeads: 2, contextLength: 64 }
sft: { steps: 2, batchSize: 2 }
grpo: { steps: 2, promptsPerStep: 2, numGenerations: 2, rolloutShards: 2 }
rewards: [{ id: correct }, { id: concise }]
`,
  'process.yaml',
);
const grpo = config.grpo!;
const hash = (c: string) => c.repeat(64);
const DATASET = hash('d');

const plan: GrpoPlan = {
  runId: RUN,
  seed: config.seed,
  grpo,
  rewardIds: ['correct', 'concise'],
  datasetVersion: DATASET,
  order: [3, 0, 2, 1],
  categories: ['nash', undefined, 'bayes', 'nash'],
};

let position = 0;
/** A recorded event of the run, at the next position. */
function recorded<T extends EventType>(type: T, payload: PayloadOf<T>): RunEvent {
  position += 1;
  return { type, position, payload } as RunEvent;
}
beforeEach(() => {
  position = 0;
});

const sampling = { temperature: 1, topP: 1, topK: 0, maxTokens: 8, stop: [] };
const requested = (step: number, policyVersion = hash('a')) =>
  recorded('rollouts.requested', {
    step,
    policyVersion,
    groupSize: 2,
    seed: 1,
    sampling,
    prompts: [
      { promptId: 'row-3', datasetVersion: DATASET, rowIndex: 3 },
      { promptId: 'row-0', datasetVersion: DATASET, rowIndex: 0 },
    ],
  });
const score = (step: number, rolloutId: string, rewardId = 'correct') =>
  recorded('reward.scored', { rolloutId, step, rewardId, rewardVersion: '1', total: 1, components: {} });
const failed = (step: number, rolloutId: string, rewardId = 'correct') =>
  recorded('reward.failed', { rolloutId, step, rewardId, rewardVersion: '2', error: 'division by zero' });
/** Every score of a step: 2 prompts x 2 rollouts x 2 rewards. */
const allScores = (step: number) =>
  ['r0', 'r1', 'r2', 'r3'].flatMap((r) => [
    score(step, `${step}-${r}`, 'correct'),
    score(step, `${step}-${r}`, 'concise'),
  ]);
const deliver = (event: RunEvent): GrpoCommand => ({
  type: 'deliver-score',
  event: event as Extract<RunEvent, { type: 'reward.scored' | 'reward.failed' }>,
});

/** Given the run's events, when a command arrives, then these decisions (Emmett's decider specification). */
function given(...events: RunEvent[]) {
  const state: GrpoState = events.reduce(evolve, initialGrpoState(plan));
  return {
    state,
    when: (command: GrpoCommand) => ({
      then: (expected: GrpoDecision[]) => expect(decide(command, state)).toEqual(expected),
      decisions: () => decide(command, state),
    }),
  };
}

const metrics: GrpoStepMetrics = {
  step: 1,
  iteration: 0,
  loss: 0.5,
  reward: 0.25,
  rewardStd: 0.1,
  rewards: { correct: { mean: 0.5, std: 0.2 } },
  fracRewardZeroStd: 0,
  completionLength: { mean: 4, min: 2, max: 6 },
  clippedRatio: 0,
  clipRatio: { low: 0, high: 0, region: 0 },
  entropy: 1.5,
  gradNorm: 0.9,
  learningRate: 1e-4,
  stepTimeMs: 1234,
};
const completeStep: GrpoCommand = {
  type: 'complete-step',
  trained: {
    metrics,
    checkpoint: { checkpointHash: hash('c'), weightsHash: hash('e'), sizeBytes: 100 },
    computeWorkers: 2,
  },
};
const types = (events: NewEvent[]) => events.map((e) => e.type);

describe('a GRPO step: waits for every score, then trains once', () => {
  it('given the step requested, expects every rollout scored by every reward the run names', () => {
    const { state } = given(requested(1));
    expect(state).toMatchObject({ step: 1, requestPosition: 1, expected: 2 * 2 * 2, training: false });
  });

  it('given all scores but one, when the last arrives, then the step trains', () => {
    const request = requested(1);
    const scores = allScores(1);
    const last = scores.pop()!;
    given(request, ...scores)
      .when(deliver(last))
      .then([{ type: 'grpo.step.training', step: 1 }]);
  });

  it('given some scores, when another arrives, then it waits', () => {
    given(requested(1), score(1, 'a'))
      .when(deliver(score(1, 'b')))
      .then([]);
  });

  it("ignores the scores of a reward the run does not name, and of another step's", () => {
    const state = given(requested(1)).state;
    expect(decide(deliver(score(1, 'a', 'length')), state)).toEqual([]);
    expect(evolve(state, score(1, 'a', 'length')).scored.size).toBe(0);
    expect(decide(deliver(score(2, 'a')), state)).toEqual([]);
    expect(evolve(state, score(2, 'a')).scored.size).toBe(0);
  });

  it('when the step is completed, then it records the step, its checkpoint and the next request in one append', () => {
    const [decision] = given(requested(1), ...allScores(1), { type: 'grpo.step.training', step: 1 } as never)
      .when(completeStep)
      .decisions();
    expect(decision).toMatchObject({ type: 'append', finished: false });
    const events = (decision as Extract<GrpoDecision, { type: 'append' }>).events;
    expect(types(events)).toEqual([
      'grpo.step.completed',
      'checkpoint.saved',
      'rollouts.requested',
      'rollout.shard.requested',
      'rollout.shard.requested',
    ]);
    expect(events[0]).toEqual({
      eventId: deterministicEventId(RUN, 'grpo.step.completed', 1),
      type: 'grpo.step.completed',
      payload: {
        step: 1,
        loss: 0.5,
        learningRate: 1e-4,
        gradNorm: 0.9,
        rewardMean: 0.25,
        rewardStd: 0.1,
        kl: 0,
        metrics: {
          fracRewardZeroStd: 0,
          completionLengthMean: 4,
          completionLengthMin: 2,
          completionLengthMax: 6,
          clippedRatio: 0,
          clipRatioLow: 0,
          clipRatioHigh: 0,
          clipRatioRegion: 0,
          entropy: 1.5,
          'reward.correct.mean': 0.5,
          'reward.correct.std': 0.2,
        },
      },
      meta: { stepTimeMs: 1234, computeWorkers: 2 },
    });
    expect(events[1].payload).toEqual({
      phase: 'grpo',
      step: 1,
      checkpointHash: hash('c'),
      weightsHash: hash('e'),
      sizeBytes: 100,
    });
    // Step 2 takes the next prompts of the run's order, from the new checkpoint, with its own seed.
    const request = events[2].payload as PayloadOf<'rollouts.requested'>;
    expect(request).toMatchObject({
      step: 2,
      policyVersion: hash('c'),
      groupSize: 2,
      seed: deriveSeed(5, 'rollouts', 2),
    });
    expect(request.prompts).toEqual([
      { promptId: 'row-2', datasetVersion: DATASET, rowIndex: 2, category: 'bayes' },
      { promptId: 'row-1', datasetVersion: DATASET, rowIndex: 1 }, // a row without a category
    ]);
    const shards = events.slice(3).map((e) => e.payload as PayloadOf<'rollout.shard.requested'>);
    expect(shards.map((s) => [s.shard, s.shards, s.prompts.map((p) => p.promptId)])).toEqual([
      [0, 2, ['row-2']],
      [1, 2, ['row-1']],
    ]);
    // Folding the recorded request opens step 2 with no scores.
    const next = events
      .map((e, i) => ({ ...e, position: 20 + i }) as unknown as RunEvent)
      .reduce(evolve, given().state);
    expect(next).toMatchObject({ step: 2, requestPosition: 22, expected: 8, training: false });
  });

  it('when the last step is completed, then it records the final policy stage instead of a request', () => {
    const [decision] = given(requested(2), ...allScores(2))
      .when(completeStep)
      .decisions();
    expect(decision).toMatchObject({ type: 'append', finished: true });
    const events = (decision as Extract<GrpoDecision, { type: 'append' }>).events;
    expect(types(events)).toEqual(['grpo.step.completed', 'checkpoint.saved', 'policy.ready']);
    expect(events[2].payload).toEqual({ stage: 'grpo', step: 2, checkpointHash: hash('c'), final: true });
  });
});

describe('a reward failure', () => {
  it('given the step requested, when a named reward fails on one of its rollouts, then the run fails naming it', () => {
    given(requested(1), score(1, 'a'))
      .when(deliver(failed(1, 'b', 'concise')))
      .then([
        {
          type: 'fail-run',
          error: 'reward concise@2 failed to score rollout b (GRPO step 1): division by zero',
        },
      ]);
  });

  it("ignores the failure of a reward the run does not name, or of another step's rollout", () => {
    given(requested(1))
      .when(deliver(failed(1, 'b', 'length')))
      .then([]);
    given(requested(2))
      .when(deliver(failed(1, 'b')))
      .then([]);
  });

  it('turns any other handler failure into run.failed, and a lost database into a crash', () => {
    expect(onHandlerError(RUN, new Error('boom'), false)).toEqual({
      type: 'fail-run',
      event: {
        eventId: deterministicEventId(RUN, 'run.failed', 'training'),
        type: 'run.failed',
        payload: { phase: 'training', error: 'boom' },
      },
    });
    expect(onHandlerError(RUN, new Error('ECONNREFUSED'), true)).toEqual({ type: 'crash' });
  });
});

describe('duplicate delivery (at least once)', () => {
  it('given a score, when it is delivered again, then it counts once', () => {
    const request = requested(1);
    const first = score(1, 'a');
    const { state } = given(request, first);
    expect(state.scored.size).toBe(1);
    expect(evolve(state, first)).toBe(state);
    given(request, first).when(deliver(first)).then([]);
  });

  it('given the step already training, when a score is redelivered, then no second update starts', () => {
    const scores = allScores(1);
    given(requested(1), ...scores, { type: 'grpo.step.training', step: 1 } as never)
      .when(deliver(scores[0]))
      .then([]);
  });

  it("given the next step requested, when the last step's score is redelivered, then nothing happens", () => {
    const scores = allScores(1);
    given(requested(1), ...scores, requested(2))
      .when(deliver(scores[3]))
      .then([]);
  });
});

describe('resume from the log after a restart', () => {
  const opening = () => [
    recorded('dataset.resolved', {
      datasets: [{ role: 'grpo', name: 'curriculum-train', versionHash: DATASET, rows: 4 }],
    } as never),
    recorded('tokenizer.trained', { tokenizerHash: hash('7'), vocabSize: 300, corpusHash: hash('8') }),
    recorded('policy.initialised', { tokenizerHash: hash('7'), seed: 1, weightsHash: hash('9') } as never),
    recorded('policy.ready', { stage: 'untrained', step: 0, checkpointHash: hash('0'), final: false }),
    recorded('policy.ready', { stage: 'sft', step: 2, checkpointHash: hash('5'), final: false }),
  ];
  const stepDone = (step: number, checkpoint: string) => [
    recorded('grpo.step.completed', {
      step,
      loss: 0,
      learningRate: 0,
      gradNorm: 0,
      rewardMean: 0,
      rewardStd: 0,
      kl: 0,
      metrics: {},
    }),
    recorded('checkpoint.saved', {
      phase: 'grpo',
      step,
      checkpointHash: checkpoint,
      weightsHash: hash('e'),
      sizeBytes: 1,
    }),
  ];
  const settings = { grpoSteps: 2, forkedFromStep: 0 };

  it('given a step in flight with some scores, then it waits from the first checkpoint, and the fold has those scores', () => {
    const events = [...opening(), requested(1, hash('5')), score(1, 'a'), score(1, 'a', 'concise')];
    expect(resumePoint(events, settings)).toEqual({
      grpoDataset: { role: 'grpo', name: 'curriculum-train', versionHash: DATASET, rows: 4 },
      tokenizerHash: hash('7'),
      startHash: hash('5'),
      referenceHash: hash('5'),
      restoreTrainer: false,
      next: { type: 'await-scores' },
    });
    const state = events.reduce(evolve, initialGrpoState(plan));
    expect(state).toMatchObject({ step: 1, expected: 8 });
    expect([...state.scored]).toEqual(['a\u0000correct', 'a\u0000concise']);
  });

  it('given step 1 completed and step 2 in flight, then it continues from the step-1 checkpoint with its optimiser state', () => {
    const events = [
      ...opening(),
      requested(1, hash('5')),
      ...stepDone(1, hash('c')),
      requested(2, hash('c')),
    ];
    expect(resumePoint(events, settings)).toMatchObject({
      startHash: hash('c'),
      restoreTrainer: true,
      next: { type: 'await-scores' },
    });
  });

  it('given a step completed whose next request is missing, then it asks for the next step; after the last, it finishes', () => {
    const done1 = [...opening(), requested(1, hash('5')), ...stepDone(1, hash('c'))];
    expect(resumePoint(done1, settings)?.next).toEqual({ type: 'request', step: 2 });
    position = 0;
    const done2 = [
      ...opening(),
      requested(1, hash('5')),
      ...stepDone(1, hash('c')),
      requested(2, hash('c')),
      ...stepDone(2, hash('f')),
    ];
    expect(resumePoint(done2, settings)).toMatchObject({ startHash: hash('f'), next: { type: 'finish' } });
  });

  it('resumes nothing when the run ended, GRPO finished or no step was requested', () => {
    const ended = [...opening(), requested(1), recorded('run.failed', { phase: 'training', error: 'x' })];
    expect(isGrpoInFlight(ended)).toBe(false);
    expect(resumePoint(ended, settings)).toBeNull();
    position = 0;
    const finished = [
      ...opening(),
      requested(1),
      recorded('policy.ready', { stage: 'grpo', step: 2, checkpointHash: hash('f'), final: true }),
    ];
    expect(resumePoint(finished, settings)).toBeNull();
    position = 0;
    expect(resumePoint(opening(), settings)).toBeNull();
  });

  it('restores the optimiser state of a fork that started after step 0, before its first checkpoint', () => {
    const events = [...opening(), requested(2, hash('c'))];
    expect(resumePoint(events, { grpoSteps: 3, forkedFromStep: 1 })).toMatchObject({
      startHash: hash('c'),
      restoreTrainer: true,
    });
  });
});

describe('fork', () => {
  const parent = { runId: 'parent', step: 1 };
  const parentEvents = () => [
    recorded('tokenizer.trained', { tokenizerHash: hash('7'), vocabSize: 300, corpusHash: hash('8') }),
    recorded('policy.initialised', { tokenizerHash: hash('7'), seed: 1, weightsHash: hash('9') } as never),
    recorded('policy.ready', { stage: 'untrained', step: 0, checkpointHash: hash('0'), final: false }),
    recorded('policy.ready', { stage: 'sft', step: 2, checkpointHash: hash('5'), final: false }),
    recorded('checkpoint.saved', {
      phase: 'sft',
      step: 2,
      checkpointHash: hash('5'),
      weightsHash: hash('e'),
      sizeBytes: 1,
    }),
    recorded('checkpoint.saved', {
      phase: 'grpo',
      step: 1,
      checkpointHash: hash('c'),
      weightsHash: hash('e'),
      sizeBytes: 1,
    }),
  ];

  it('refuses a config without GRPO, or a step not before grpo.steps', () => {
    expect(() => checkFork(undefined, parent)).toThrow('fork: the config has no grpo section to continue');
    expect(() => checkFork(grpo, { step: 2 })).toThrow('fork: --from-step 2 must be before grpo.steps (2)');
    expect(checkFork(grpo, parent)).toBe(grpo);
  });

  it("given the parent's events, continues from its step-N checkpoint, opening with its tokenizer, policy and SFT stage", () => {
    const start = forkStart('fork-1', parent, parentEvents());
    expect(start).toMatchObject({
      tokenizerHash: hash('7'),
      startHash: hash('c'),
      referenceHash: hash('5'),
      restoreTrainer: true,
      firstStep: 2,
    });
    expect(start.opening).toEqual([
      {
        eventId: deterministicEventId('fork-1', 'tokenizer.trained'),
        type: 'tokenizer.trained',
        payload: { tokenizerHash: hash('7'), vocabSize: 300, corpusHash: hash('8') },
      },
      {
        eventId: deterministicEventId('fork-1', 'policy.initialised'),
        type: 'policy.initialised',
        payload: { tokenizerHash: hash('7'), seed: 1, weightsHash: hash('9') },
      },
      {
        eventId: deterministicEventId('fork-1', 'policy.ready', 'sft'),
        type: 'policy.ready',
        payload: { stage: 'sft', step: 2, checkpointHash: hash('5'), final: false },
      },
    ]);
  });

  it('given a pretrained parent, opens with its recorded checkpoint directory instead of a trained tokenizer', () => {
    const source: PayloadOf<'policy.source.resolved'> = {
      kind: 'pretrained',
      path: '/models/tiny',
      architecture: 'LlamaForCausalLM',
      sha256: hash('a'),
      files: [{ path: 'config.json', bytes: 10, sha256: hash('b') }],
    };
    const pretrainedParent = [
      recorded('policy.source.resolved', source),
      ...parentEvents()
        .filter((e) => e.type !== 'tokenizer.trained')
        .map((e) =>
          e.type === 'policy.initialised'
            ? recorded('policy.initialised', {
                tokenizerHash: hash('d'),
                seed: 1,
                weightsHash: hash('9'),
              } as never)
            : e,
        ),
    ];
    const start = forkStart('fork-p', parent, pretrainedParent);
    expect(start).toMatchObject({ tokenizerHash: hash('d'), startHash: hash('c'), restoreTrainer: true });
    expect(start.opening.map((e) => e.type)).toEqual([
      'policy.source.resolved',
      'policy.initialised',
      'policy.ready',
    ]);
    expect(start.opening[0].payload).toEqual(source);
  });

  it('from step 0 starts at the SFT checkpoint with a fresh optimiser', () => {
    expect(forkStart('fork-0', { runId: 'parent', step: 0 }, parentEvents())).toMatchObject({
      startHash: hash('5'),
      restoreTrainer: false,
      firstStep: 1,
    });
  });

  it('names the checkpoints the parent has when step N has none, and refuses a parent without SFT', () => {
    expect(() => forkStart('f', { runId: 'parent', step: 3 }, parentEvents())).toThrow(
      'fork: the parent run parent has no GRPO checkpoint at step 3 (it has 1)',
    );
    expect(() => forkStart('f', parent, parentEvents().slice(0, 1))).toThrow(
      'fork: the parent run parent has not finished SFT',
    );
  });
});

describe("a run's stages", () => {
  it('marks the last stage the config trains final', () => {
    const sftOnly = { ...config, grpo: undefined };
    expect(stagePlan(config)).toEqual({ sft: true, grpo: 'request-first-step' });
    expect(stagePlan(sftOnly)).toEqual({ sft: true, grpo: 'none' });
    expect(stagePlan({ ...config, grpo: { ...grpo, steps: 0 } })).toEqual({
      sft: true,
      grpo: 'finish-at-once',
    });
    expect(untrainedReady(RUN, config, hash('0')).payload).toMatchObject({
      stage: 'untrained',
      final: false,
    });
    expect(untrainedReady(RUN, { ...sftOnly, sft: undefined }, hash('0')).payload).toMatchObject({
      final: true,
    });
    expect(sftReady(RUN, config, hash('5')).payload).toEqual({
      stage: 'sft',
      step: 2,
      checkpointHash: hash('5'),
      final: false,
    });
    expect(sftReady(RUN, sftOnly, hash('5')).payload).toMatchObject({ final: true });
  });
});
