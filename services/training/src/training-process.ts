import { eventsOf, payloadsOf, type EventType, type PayloadOf } from '@recon/contracts';
import { deterministicEventId, type NewEvent } from '@recon/eventlog';
import type { ExperimentConfig } from '@recon/experiment';
import { deriveSeed } from '@recon/games';
import type { GrpoStepMetrics, SftStepMetrics } from '@recon/policy';

/**
 * The decisions of the training process, apart from their effects: which events a step records, when a
 * GRPO step has every score it waits for, what a reward failure or a duplicate delivery does, where a
 * resumed or forked run continues. Pure functions of the run's events and config (no I/O, no clock, no
 * model): the worker (training.worker.ts) loads data, trains, stores blobs and appends what these return.
 *
 * The GRPO part is a decider: `evolve(state, event)` folds the run's events (recorded, or delivered by the
 * bus) into a `GrpoState`, and `decide(command, state)` answers a command with the decisions to carry out.
 */

/** A run-stream event as the process reads it: its type narrows its payload. */
export type RunEvent = { [K in EventType]: { type: K; position: number; payload: PayloadOf<K> } }[EventType];

export type GrpoConfig = NonNullable<ExperimentConfig['grpo']>;

/**
 * An event with an id derived from what it is, so a retried append never duplicates it. Wall-clock
 * measurements go in `meta`, never in the payload: payloads must be equal when a run is replayed.
 */
export function runEvent<T extends EventType>(
  runId: string,
  type: T,
  key: Array<string | number>,
  payload: PayloadOf<T>,
  meta?: Record<string, number>,
): NewEvent {
  return {
    eventId: deterministicEventId(runId, type, ...key),
    type,
    payload,
    ...(meta ? { meta } : {}),
  } as NewEvent;
}

// ---- a run's stages ----

/** What a run with a built-in policy trains, in order, from its config. */
export function stagePlan(config: ExperimentConfig): {
  sft: boolean;
  grpo: 'none' | 'finish-at-once' | 'request-first-step';
} {
  return {
    sft: !!config.sft,
    grpo: !config.grpo ? 'none' : config.grpo.steps === 0 ? 'finish-at-once' : 'request-first-step',
  };
}

/** `policy.ready` of the untrained policy: final when the config trains nothing. */
export function untrainedReady(runId: string, config: ExperimentConfig, checkpointHash: string): NewEvent {
  return runEvent(runId, 'policy.ready', ['untrained'], {
    stage: 'untrained',
    step: 0,
    checkpointHash,
    final: !config.sft && !config.grpo,
  });
}

/** `policy.ready` after SFT: final when no GRPO follows. */
export function sftReady(runId: string, config: ExperimentConfig, checkpointHash: string): NewEvent {
  return runEvent(runId, 'policy.ready', ['sft'], {
    stage: 'sft',
    step: config.sft!.steps,
    checkpointHash,
    final: !config.grpo,
  });
}

/** What the SFT examples lost to the context, recorded with every SFT step. */
export interface SftDataCounts {
  truncated: number;
  promptsShortened: number;
  chatRowsDropped: number;
}

export function sftStepCompleted(
  runId: string,
  sft: NonNullable<ExperimentConfig['sft']>,
  step: number,
  m: SftStepMetrics,
  counts: SftDataCounts,
  computeWorkers: number,
): NewEvent {
  return runEvent(
    runId,
    'sft.step.completed',
    [step],
    {
      step,
      loss: m.loss,
      learningRate: m.learningRate,
      gradNorm: m.gradNorm,
      tokens: m.tokens,
      examples: m.sequences,
      dataPosition: step * sft.batchSize * sft.gradientAccumulation,
      metrics: {
        epoch: m.epoch,
        truncatedAtContext: counts.truncated,
        promptsShortened: counts.promptsShortened,
        ...(counts.chatRowsDropped > 0 ? { chatRowsDropped: counts.chatRowsDropped } : {}),
      },
    },
    { stepTimeMs: m.stepTimeMs, computeWorkers },
  );
}

/** A failure while handling a run's event: a lost database stops the process (its restart resumes the run
 * from the log); anything else fails the run. */
export function onHandlerError(
  runId: string,
  error: unknown,
  connectionLost: boolean,
): { type: 'crash' } | { type: 'fail-run'; event: NewEvent } {
  if (connectionLost) return { type: 'crash' };
  return {
    type: 'fail-run',
    event: runEvent(runId, 'run.failed', ['training'], {
      phase: 'training',
      error: (error as Error).message,
    }),
  };
}

// ---- GRPO ----

/** What a GRPO run needs to choose its prompts: fixed when its GRPO phase opens. */
export interface GrpoPlan {
  runId: string;
  seed: number;
  grpo: GrpoConfig;
  rewardIds: readonly string[];
  datasetVersion: string;
  /** The prompt order: a permutation of the dataset's rows drawn from the run's seed. */
  order: readonly number[];
  /** Each row's category (undefined where it has none). */
  categories: ReadonlyArray<string | undefined>;
}

/** Where a run's GRPO stands: the step whose scores it waits for and the scores it has. */
export interface GrpoState {
  plan: GrpoPlan;
  /** The step in flight (0 before the first request). */
  step: number;
  /** Position of the step's `rollouts.requested`: its rollouts and scores come after it. */
  requestPosition: number;
  /** Scores the step needs: every rollout by every reward the run names. */
  expected: number;
  /** `rolloutId \0 rewardId` of the step's scores so far (a set: a redelivered score counts once). */
  scored: ReadonlySet<string>;
  /** The step's update is under way: a score delivered meanwhile starts no second one. */
  training: boolean;
}

export function initialGrpoState(plan: GrpoPlan): GrpoState {
  return { plan, step: 0, requestPosition: 0, expected: 0, scored: new Set(), training: false };
}

/** The process's own decision that the step's update starts (not recorded: the worker's lock). */
export interface StepTrainingStarted {
  type: 'grpo.step.training';
  step: number;
}

const scoreKey = (rolloutId: string, rewardId: string) => `${rolloutId}\u0000${rewardId}`;

export function evolve(state: GrpoState, event: RunEvent | StepTrainingStarted): GrpoState {
  switch (event.type) {
    case 'rollouts.requested': {
      const { step, prompts, groupSize } = event.payload;
      return {
        ...state,
        step,
        requestPosition: event.position,
        expected: prompts.length * groupSize * state.plan.rewardIds.length,
        scored: new Set(),
        training: false,
      };
    }
    case 'reward.scored': {
      const { step, rolloutId, rewardId } = event.payload;
      if (step !== state.step || !state.plan.rewardIds.includes(rewardId)) return state;
      if (event.position <= state.requestPosition) return state;
      const key = scoreKey(rolloutId, rewardId);
      if (state.scored.has(key)) return state;
      return { ...state, scored: new Set([...state.scored, key]) };
    }
    case 'grpo.step.training':
      return { ...state, training: true };
    default:
      return state;
  }
}

/** The last completed step's result, as the trainer reports it. */
export interface TrainedStep {
  metrics: GrpoStepMetrics;
  checkpoint: { checkpointHash: string; weightsHash: string; sizeBytes: number };
  computeWorkers: number;
}

export type GrpoCommand =
  /** A reward's answer for one rollout, delivered by the bus (possibly again). */
  | { type: 'deliver-score'; event: Extract<RunEvent, { type: 'reward.scored' | 'reward.failed' }> }
  /** The step's update is done: record it, then ask for the next step or end GRPO. */
  | { type: 'complete-step'; trained: TrainedStep };

export type GrpoDecision =
  | StepTrainingStarted
  | { type: 'fail-run'; error: string }
  /** Events to append in one batch (one transaction, one bus wake-up). */
  | { type: 'append'; events: NewEvent[]; finished: boolean };

export function decide(command: GrpoCommand, state: GrpoState): GrpoDecision[] {
  switch (command.type) {
    case 'deliver-score': {
      const { event } = command;
      // Another step's score (a late redelivery) or a reward this run does not wait for: nothing to do.
      if (event.payload.step !== state.step || !state.plan.rewardIds.includes(event.payload.rewardId))
        return [];
      if (event.type === 'reward.failed') {
        const failure = event.payload;
        return [
          {
            type: 'fail-run',
            error: `reward ${failure.rewardId}@${failure.rewardVersion} failed to score rollout ${failure.rolloutId} (GRPO step ${failure.step}): ${failure.error}`,
          },
        ];
      }
      const after = evolve(state, event);
      if (after.scored.size < after.expected || state.training) return [];
      return [{ type: 'grpo.step.training', step: state.step }];
    }
    case 'complete-step': {
      const { plan, step } = state;
      const completed = stepCompleted(plan, step, command.trained);
      const checkpointHash = command.trained.checkpoint.checkpointHash;
      if (step < plan.grpo.steps)
        return [
          {
            type: 'append',
            events: requestRollouts(plan, step + 1, checkpointHash, completed),
            finished: false,
          },
        ];
      return [{ type: 'append', events: finishGrpo(plan, checkpointHash, completed), finished: true }];
    }
  }
}

function stepCompleted(plan: GrpoPlan, step: number, trained: TrainedStep): NewEvent[] {
  const last = trained.metrics;
  const flat: Record<string, number> = {
    fracRewardZeroStd: last.fracRewardZeroStd,
    completionLengthMean: last.completionLength.mean,
    completionLengthMin: last.completionLength.min,
    completionLengthMax: last.completionLength.max,
    clippedRatio: last.clippedRatio,
    clipRatioLow: last.clipRatio.low,
    clipRatioHigh: last.clipRatio.high,
    clipRatioRegion: last.clipRatio.region,
    entropy: last.entropy,
  };
  for (const [id, { mean, std }] of Object.entries(last.rewards)) {
    flat[`reward.${id}.mean`] = mean;
    flat[`reward.${id}.std`] = std;
  }
  return [
    runEvent(
      plan.runId,
      'grpo.step.completed',
      [step],
      {
        step,
        loss: last.loss,
        learningRate: last.learningRate,
        gradNorm: last.gradNorm,
        rewardMean: last.reward,
        rewardStd: last.rewardStd,
        kl: last.kl ?? 0,
        metrics: flat,
      },
      { stepTimeMs: last.stepTimeMs, computeWorkers: trained.computeWorkers },
    ),
    runEvent(plan.runId, 'checkpoint.saved', ['grpo', step], { phase: 'grpo', step, ...trained.checkpoint }),
  ];
}

/**
 * A step's request for rollouts and its shards (the rollout workers act on the shards), after `completed`
 * (the previous step's completion and checkpoint): all commit in one append, so no restart finds one
 * without the others.
 */
export function requestRollouts(
  plan: GrpoPlan,
  step: number,
  policyVersion: string,
  completed: NewEvent[] = [],
): NewEvent[] {
  const { grpo } = plan;
  const prompts = Array.from({ length: grpo.promptsPerStep }, (_, i) => {
    const rowIndex = plan.order[((step - 1) * grpo.promptsPerStep + i) % plan.order.length];
    const category = plan.categories[rowIndex];
    return {
      promptId: `row-${rowIndex}`,
      datasetVersion: plan.datasetVersion,
      rowIndex,
      ...(category ? { category } : {}),
    };
  });
  // The same prompt twice in one step would make two groups share ids; a step takes distinct rows.
  const unique = [...new Map(prompts.map((p) => [p.promptId, p])).values()];
  const request = {
    step,
    policyVersion,
    groupSize: grpo.numGenerations,
    seed: deriveSeed(plan.seed, 'rollouts', step),
    sampling: {
      temperature: grpo.temperature,
      topP: grpo.topP,
      topK: grpo.topK,
      maxTokens: grpo.maxCompletionTokens,
      stop: [],
    },
    prompts: unique,
  };
  const shards = Math.min(grpo.rolloutShards, unique.length);
  return [
    ...completed,
    runEvent(plan.runId, 'rollouts.requested', [step], request),
    ...Array.from({ length: shards }, (_, shard) =>
      runEvent(plan.runId, 'rollout.shard.requested', [step, shard], {
        ...request,
        prompts: unique.filter((_, i) => i % shards === shard),
        shard,
        shards,
      }),
    ),
  ];
}

/** GRPO's end: the final policy stage, after `completed` in the same append. */
export function finishGrpo(plan: GrpoPlan, checkpointHash: string, completed: NewEvent[] = []): NewEvent[] {
  return [
    ...completed,
    runEvent(plan.runId, 'policy.ready', ['grpo'], {
      stage: 'grpo',
      step: plan.grpo.steps,
      checkpointHash,
      final: true,
    }),
  ];
}

// ---- resume after a restart ----

/** How a run's GRPO phase reopens from its recorded events. */
export interface GrpoResumePoint {
  grpoDataset: PayloadOf<'dataset.resolved'>['datasets'][number];
  tokenizerHash: string;
  /** The policy GRPO continues from: the last GRPO checkpoint, else the one the first request named. */
  startHash: string;
  /** The KL reference: the SFT stage (else the last stage before GRPO). */
  referenceHash: string;
  /** Restore the optimiser state with the weights (not for a GRPO start from SFT). */
  restoreTrainer: boolean;
  /** The step in flight was completed (its next request not recorded yet): ask for the next or finish. */
  next: { type: 'request'; step: number } | { type: 'finish' } | { type: 'await-scores' };
}

/**
 * Where a restarted process picks up a run (a crash, a redeployed pod): null when the run has ended or is
 * not in its GRPO phase (SFT is redone from its redelivered trigger instead). Afterwards the GRPO state is
 * the fold of the same events (`events.reduce(evolve, initialGrpoState(plan))`): the step in flight and
 * the scores it already has.
 */
/** Whether a run has a GRPO step in flight: a request recorded, GRPO not finished, the run not ended. */
export function isGrpoInFlight(events: readonly RunEvent[]): boolean {
  if (events.some((e) => e.type === 'run.completed' || e.type === 'run.failed')) return false;
  return (
    events.some((e) => e.type === 'rollouts.requested') &&
    !events.some((e) => e.type === 'policy.ready' && e.payload.stage === 'grpo')
  );
}

export function resumePoint(
  events: readonly RunEvent[],
  run: { grpoSteps: number; forkedFromStep: number },
): GrpoResumePoint | null {
  if (!isGrpoInFlight(events)) return null;
  const last = <T extends EventType>(type: T, where: (p: PayloadOf<T>) => boolean = () => true) =>
    eventsOf(events, type)
      .filter((e) => where(e.payload))
      .at(-1);
  const requests = events.filter(
    (e): e is Extract<RunEvent, { type: 'rollouts.requested' }> => e.type === 'rollouts.requested',
  );
  const lastCheckpoint = last('checkpoint.saved', (p) => p.phase === 'grpo');
  const step = requests[requests.length - 1].payload.step;
  const completed = !!last('grpo.step.completed', (p) => p.step === step);
  return {
    grpoDataset: last('dataset.resolved')!.payload.datasets.find((d) => d.role === 'grpo')!,
    tokenizerHash: last('policy.initialised')!.payload.tokenizerHash,
    startHash: lastCheckpoint ? lastCheckpoint.payload.checkpointHash : requests[0].payload.policyVersion,
    referenceHash: (last('policy.ready', (p) => p.stage === 'sft') ?? last('policy.ready'))!.payload
      .checkpointHash,
    restoreTrainer: !!lastCheckpoint || run.forkedFromStep > 0,
    next: !completed
      ? { type: 'await-scores' }
      : step < run.grpoSteps
        ? { type: 'request', step: step + 1 }
        : { type: 'finish' },
  };
}

// ---- fork ----

/** A fork's settings against its parent's step, checked before anything is awaited or read. */
export function checkFork(grpo: GrpoConfig | undefined, parent: { step: number }): GrpoConfig {
  if (!grpo) throw new Error('fork: the config has no grpo section to continue');
  if (parent.step >= grpo.steps)
    throw new Error(`fork: --from-step ${parent.step} must be before grpo.steps (${grpo.steps})`);
  return grpo;
}

/** Where a fork's GRPO starts, and the parent's stages its own stream opens with. */
export interface ForkStart {
  /** The parent's tokenizer, policy and SFT stage, recorded first on the fork's stream. */
  opening: NewEvent[];
  tokenizerHash: string;
  /** The parent's checkpoint of step N (0: its SFT checkpoint). */
  startHash: string;
  referenceHash: string;
  restoreTrainer: boolean;
  firstStep: number;
}

/**
 * A fork (`recon fork <run> --from-step N`) continues its parent's GRPO from the checkpoint of step N (0:
 * the SFT checkpoint) with its own settings. Its stream starts with the parent's tokenizer, policy and SFT
 * stage, so it can be audited, evaluated and resumed on its own.
 */
export function forkStart(
  runId: string,
  parent: { runId: string; step: number },
  parentEvents: readonly RunEvent[],
): ForkStart {
  const payloads = <T extends EventType>(type: T, where: (p: PayloadOf<T>) => boolean = () => true) =>
    payloadsOf(parentEvents, type).filter(where);
  // A built-in policy's tokenizer, or a pretrained policy's recorded checkpoint directory.
  const [tokenizerTrained] = payloads('tokenizer.trained');
  const [source] = payloads('policy.source.resolved');
  const [initialised] = payloads('policy.initialised');
  const ready =
    payloads('policy.ready', (p) => p.stage === 'sft')[0] ??
    payloads('policy.ready', (p) => p.stage === 'untrained')[0];
  if (!(tokenizerTrained ?? source) || !initialised || !ready)
    throw new Error(`fork: the parent run ${parent.runId} has not finished SFT`);
  const grpoCheckpoints = payloads('checkpoint.saved', (p) => p.phase === 'grpo');
  const startHash =
    parent.step === 0
      ? ready.checkpointHash
      : grpoCheckpoints.find((c) => c.step === parent.step)?.checkpointHash;
  if (!startHash)
    throw new Error(
      `fork: the parent run ${parent.runId} has no GRPO checkpoint at step ${parent.step} (it has ${grpoCheckpoints.map((c) => c.step).join(', ') || 'none'})`,
    );
  return {
    opening: [
      ...(tokenizerTrained ? [runEvent(runId, 'tokenizer.trained', [], tokenizerTrained)] : []),
      ...(source ? [runEvent(runId, 'policy.source.resolved', [], source)] : []),
      runEvent(runId, 'policy.initialised', [], initialised),
      runEvent(runId, 'policy.ready', ['sft'], {
        stage: 'sft',
        step: ready.step,
        checkpointHash: ready.checkpointHash,
        final: false,
      }),
    ],
    tokenizerHash: initialised.tokenizerHash,
    startHash,
    referenceHash: ready.checkpointHash,
    restoreTrainer: parent.step > 0,
    firstStep: parent.step + 1,
  };
}
