import type { PayloadOf } from '@recon/contracts';
import {
  type BlobStore,
  type EventStore,
  type NewEvent,
  type RecordedEvent,
  type RecordedEventOf,
} from '@recon/eventlog';
import { ownedStreamsHandler, readRunConfig, runHasEnded, type ExperimentConfig } from '@recon/experiment';
import { deriveSeed } from '@recon/games';
import { loadRegisteredDataset } from '@recon/persistence';
import { Mulberry32 } from '@recon/random';
import {
  activeBackend,
  selectBackend,
  trainTokenizer,
  TransformerPolicy,
  type BackendInfo,
  type ByteBpeTokenizer,
  type RolloutGroup,
} from '@recon/policy';
import {
  assignWeights,
  DataParallelSft,
  GENERATION_SPLIT,
  loadTokenizer,
  policyComputePool,
  promptTokens,
  resolveWorkerCount,
  savePolicyCheckpoint,
  saveTokenizer,
  SFT_MICRO_BATCH_SPLIT,
  type ComputePool,
} from '@recon/policy-runtime';
import type { Consumer, EventBus } from '@recon/transport';
import { sha256Hex, canonicalJson, isConnectionLoss } from '@recon/eventlog';
import { trainingProducer } from './producer';
import { openPretrainedGrpoPolicy, trainPretrained } from './pretrained-training';
import { awaitRewardServices } from './reward-services';
import { openBuiltinGrpoPolicy } from './builtin-grpo-policy';
import type { GrpoPolicy } from './grpo-policy';
import { sftTrainerConfig } from './sft-trainer-config';
import { sftExamples, type TraceRowLike } from './sft-examples';
import {
  checkFork,
  decide,
  evolve,
  forkStart,
  finishGrpo,
  initialGrpoState,
  isGrpoInFlight,
  onHandlerError,
  requestRollouts,
  resumePoint,
  runEvent,
  sftReady,
  sftStepCompleted,
  stagePlan,
  untrainedReady,
  type GrpoDecision,
  type GrpoState,
  type RunEvent,
} from './training-process';

interface ProblemRowLike {
  messages: Array<{ role: 'system' | 'user' | 'assistant'; content: string }>;
  gold: string;
  category?: string;
}

type Dataset = PayloadOf<'dataset.resolved'>['datasets'][number];

/** A run in its GRPO phase: the policy being trained, and where its GRPO stands (training-process). */
interface GrpoRun {
  runId: string;
  config: ExperimentConfig;
  policy: GrpoPolicy;
  rows: ProblemRowLike[];
  state: GrpoState;
}

/** Where a run's GRPO starts: its checkpoint, the reference's, and the built-in tokenizer when it has one. */
interface GrpoStart {
  runId: string;
  config: ExperimentConfig;
  seed: number;
  problems: ProblemRowLike[];
  grpoSet: Dataset;
  startHash: string;
  referenceHash: string;
  restoreTrainer?: boolean;
  /** A built-in policy's tokenizer (a pretrained policy's is a file of its recorded directory). */
  builtin?: { tokenizer: ByteBpeTokenizer; tokenizerHash: string };
}

/** A recorded event as the training process reads it (its payload was validated when it was appended). */
const SUBSCRIBED_TYPES = ['dataset.resolved', 'reward.scored', 'reward.failed'] as const;
type SubscribedType = (typeof SUBSCRIBED_TYPES)[number];
const asRunEvent = (event: RecordedEvent) => event as unknown as RunEvent;

export interface TrainingWorkerOptions {
  eventStore: EventStore;
  blobStore: BlobStore;
  bus: EventBus;
  /** Called after each recorded step (progress display). */
  onProgress?: (runId: string, phase: 'sft' | 'grpo', step: number, total: number) => void;
}

/**
 * The training service: on `dataset.resolved` it trains the tokenizer, initialises the policy, runs SFT,
 * then drives GRPO one step at a time: it asks for rollouts (`rollouts.requested`), waits until every
 * rollout of the step is scored by every reward the run names (`reward.scored`), and updates the policy.
 * Every step, checkpoint and policy stage is an event. What to record and when is decided by the pure
 * training process (training-process.ts); this class performs the effects: data, models, blobs, appends.
 */
export class TrainingWorker {
  private consumer: Consumer | null = null;
  private readonly runs = new Map<string, GrpoRun>();
  private backend: BackendInfo | null = null;

  constructor(private readonly options: TrainingWorkerOptions) {}

  async start(): Promise<void> {
    this.consumer = await this.options.bus.subscribe(
      { group: 'training', types: SUBSCRIBED_TYPES },
      // Training runs only: a rescore stream's scores are not a run's.
      ownedStreamsHandler(
        { eventStore: this.options.eventStore, group: 'training', producer: trainingProducer() },
        { run: (event) => this.handle(event) },
      ),
    );
  }

  async stop(): Promise<void> {
    await this.consumer?.stop();
    for (const run of this.runs.values()) this.dispose(run);
    this.runs.clear();
  }

  private async append(runId: string, events: NewEvent[]): Promise<RecordedEvent[]> {
    return this.options.eventStore.append(runId, events, {
      expectedVersion: 'any',
      producer: trainingProducer(),
    });
  }

  private async handle(event: RecordedEventOf<SubscribedType>): Promise<void> {
    try {
      if (event.type === 'dataset.resolved') await this.beginRun(event);
      else await this.onRewardScored(event);
    } catch (error) {
      const runId = event.streamId;
      const run = this.runs.get(runId);
      if (run) this.dispose(run);
      this.runs.delete(runId);
      // PostgreSQL away for longer than the retries: the run did not fail, this process cannot go on. The
      // handler fails, the service exits and its restart resumes the run from the log.
      const decision = onHandlerError(runId, error, isConnectionLoss(error));
      if (decision.type === 'crash') throw error;
      await this.append(runId, [decision.event]);
    }
  }

  private async beginRun(event: RecordedEventOf<'dataset.resolved'>): Promise<void> {
    const runId = event.streamId;
    if (await runHasEnded(this.options.eventStore, runId)) return;
    const { config, seed, request } = await readRunConfig(this.options.eventStore, runId);
    if (config.policy.kind === 'openai') return; // external policies are evaluated, not trained
    // Before SFT, so a missing reward service fails the run in seconds rather than after SFT.
    if (config.grpo)
      await awaitRewardServices(
        this.options.eventStore,
        config.rewards,
        config.grpo.rewardWaitSeconds * 1000,
      );
    const datasets = event.payload.datasets;
    if (request.parent) {
      await this.beginFork(runId, config, seed, request.parent, datasets);
      return;
    }
    if (config.policy.kind === 'pretrained') {
      const last = await trainPretrained(
        { ...this.options, append: (id, events) => this.append(id, events) },
        { runId, config, seed, datasets },
      );
      await this.beginGrpo({ runId, config, seed, datasets, startHash: last.checkpointHash });
      return;
    }
    const policy = config.policy;
    const sftSet = datasets.find((d) => d.role === 'sft');
    const grpoSet = datasets.find((d) => d.role === 'grpo');
    const traces = sftSet
      ? (await loadRegisteredDataset<TraceRowLike>(this.options, sftSet.versionHash)).rows
      : [];
    const problems = grpoSet
      ? (await loadRegisteredDataset<ProblemRowLike>(this.options, grpoSet.versionHash)).rows
      : [];

    this.backend ??= activeBackend() ?? (await selectBackend(policy.backend));
    const backend = this.backend;
    const pool = await policyComputePool(backend, resolveWorkerCount(policy.workers));
    const corpus = [
      ...traces.map(
        (r) => `${r.messages ? r.messages.map((m) => m.content).join('\n') : r.prompt}\n${r.response}`,
      ),
      ...problems.map((r) => r.messages.map((m) => m.content).join('\n')),
    ];
    const tokenizer = trainTokenizer({
      corpus,
      vocabSize: config.tokenizer.vocabSize,
      pretokenizer: config.tokenizer.pretokenizer,
    });
    const tokenizerHash = await saveTokenizer(this.options.blobStore, tokenizer);
    await this.append(runId, [
      runEvent(runId, 'tokenizer.trained', [], {
        tokenizerHash,
        vocabSize: tokenizer.vocabSize,
        corpusHash: sha256Hex(canonicalJson(corpus)),
      }),
    ]);

    const modelConfig = {
      vocabSize: tokenizer.vocabSize,
      dModel: policy.dModel,
      layers: policy.nLayers,
      heads: policy.nHeads,
      context: policy.contextLength,
      tieEmbeddings: policy.tieEmbeddings,
      seed: deriveSeed(seed, 'policy-init'),
    };
    const model = new TransformerPolicy(modelConfig);
    const untrained = await savePolicyCheckpoint(this.options.blobStore, model, {
      tokenizerHash,
      backend: backend.name,
    });
    await this.append(runId, [
      runEvent(
        runId,
        'policy.initialised',
        [],
        {
          // As the compute workers run it (their BLAS threads: see policyComputePool).
          backend: {
            name: backend.name,
            threads: pool.backend.threads ?? 1,
            simd: pool.backend.simd ?? false,
            ...(pool.backend.blas ? { blas: pool.backend.blas } : {}),
          },
          modelConfig: { ...model.config, lora: undefined } as never,
          tokenizerHash,
          seed: modelConfig.seed,
          weightsHash: untrained.weightsHash,
          dataParallel: { sftMicroBatchSplit: SFT_MICRO_BATCH_SPLIT, generationSplit: GENERATION_SPLIT },
        },
        { computeWorkers: pool.size },
      ),
      untrainedReady(runId, config, untrained.checkpointHash),
    ]);

    const stages = stagePlan(config);
    let current = untrained;
    if (stages.sft) {
      current = await this.runSft(
        runId,
        config,
        seed,
        model,
        tokenizer,
        tokenizerHash,
        traces,
        backend,
        pool,
      );
      await this.append(runId, [sftReady(runId, config, current.checkpointHash)]);
    }
    model.dispose();
    await this.beginGrpo({
      runId,
      config,
      seed,
      datasets,
      startHash: current.checkpointHash,
      problems,
      builtin: { tokenizer, tokenizerHash },
    });
  }

  /**
   * GRPO after a run's last stage (SFT, or the untrained policy). It always starts from the stored
   * checkpoint (never from the live model), so a run restored after a crash takes exactly the same path as
   * one that never stopped.
   */
  private async beginGrpo(args: {
    runId: string;
    config: ExperimentConfig;
    seed: number;
    datasets: Dataset[];
    startHash: string;
    problems?: ProblemRowLike[];
    builtin?: GrpoStart['builtin'];
  }): Promise<void> {
    const { config, startHash } = args;
    const stages = stagePlan(config);
    if (stages.grpo === 'none') return;
    const grpoSet = args.datasets.find((d) => d.role === 'grpo');
    if (!grpoSet) throw new Error('grpo is configured but no dataset was resolved for it');
    const problems =
      args.problems ?? (await loadRegisteredDataset<ProblemRowLike>(this.options, grpoSet.versionHash)).rows;
    const run = await this.grpoRun({ ...args, problems, grpoSet, referenceHash: startHash });
    if (stages.grpo === 'finish-at-once') {
      await this.finishGrpo(run, startHash);
      return;
    }
    const saved = await run.policy.saveStart();
    await this.requestRollouts(run, 1, saved.checkpointHash);
  }

  /** A fork continues its parent's GRPO from a checkpoint (see forkStart). */
  private async beginFork(
    runId: string,
    config: ExperimentConfig,
    seed: number,
    parent: { runId: string; step: number },
    datasets: Dataset[],
  ): Promise<void> {
    const grpo = checkFork(config.grpo, parent);
    await awaitRewardServices(this.options.eventStore, config.rewards, grpo.rewardWaitSeconds * 1000);
    const start = forkStart(
      runId,
      parent,
      (await this.options.eventStore.readStream(parent.runId)).map(asRunEvent),
    );
    await this.append(runId, start.opening);
    this.backend ??= activeBackend() ?? (await selectBackend('auto'));
    const grpoSet = datasets.find((d) => d.role === 'grpo');
    if (!grpoSet) throw new Error('fork: the parent resolved no GRPO dataset');
    const problems = (await loadRegisteredDataset<ProblemRowLike>(this.options, grpoSet.versionHash)).rows;
    const run = await this.grpoRun({
      runId,
      config,
      seed,
      problems,
      grpoSet,
      startHash: start.startHash,
      referenceHash: start.referenceHash,
      restoreTrainer: start.restoreTrainer,
      builtin: await this.builtinTokenizer(config, start.tokenizerHash),
    });
    await this.requestRollouts(run, start.firstStep, start.startHash);
  }

  /** A built-in policy's tokenizer, from its blob (a pretrained policy's is its checkpoint's own). */
  private async builtinTokenizer(
    config: ExperimentConfig,
    tokenizerHash: string,
  ): Promise<GrpoStart['builtin']> {
    if (config.policy.kind === 'pretrained') return undefined;
    return { tokenizer: await loadTokenizer(this.options.blobStore, tokenizerHash), tokenizerHash };
  }

  private async grpoRun(args: GrpoStart): Promise<GrpoRun> {
    const { runId, config, seed, problems, grpoSet, startHash, referenceHash, restoreTrainer } = args;
    const grpo = config.grpo!;
    let policy: GrpoPolicy;
    if (config.policy.kind === 'pretrained')
      policy = await openPretrainedGrpoPolicy(this.options, { runId, config, startHash, restoreTrainer });
    else {
      if (!args.builtin) throw new Error(`training: run ${runId} has no tokenizer for its built-in policy`);
      policy = await openBuiltinGrpoPolicy({
        blobStore: this.options.blobStore,
        backend: this.backend!,
        config,
        ...args.builtin,
        startHash,
        referenceHash,
        restoreTrainer,
      });
    }
    const run: GrpoRun = {
      runId,
      config,
      policy,
      rows: problems,
      state: initialGrpoState({
        runId,
        seed,
        grpo,
        rewardIds: config.rewards.map((r) => r.id),
        datasetVersion: grpoSet.versionHash,
        order: new Mulberry32(deriveSeed(seed, 'grpo-prompts')).permutation(problems.length),
        categories: problems.map((r) => r.category),
      }),
    };
    this.runs.set(runId, run);
    return run;
  }

  /**
   * Rebuilds a run's GRPO state from its events after a restart (a crash, a redeployed pod): the last
   * checkpoint with its optimiser state, the step in flight and the scores it already has (resumePoint).
   * Returns null when there is no step in flight to wait for.
   */
  private async restore(runId: string): Promise<GrpoRun | null> {
    const events = (await this.options.eventStore.readStream(runId)).map(asRunEvent);
    if (!isGrpoInFlight(events)) return null;
    const { config, seed, request: runRequest } = await readRunConfig(this.options.eventStore, runId);
    const point = resumePoint(events, {
      grpoSteps: config.grpo!.steps,
      forkedFromStep: runRequest.parent?.step ?? 0,
    })!;
    const problems = (
      await loadRegisteredDataset<ProblemRowLike>(this.options, point.grpoDataset.versionHash)
    ).rows;
    this.backend ??= activeBackend() ?? (await selectBackend('auto'));
    const run = await this.grpoRun({
      runId,
      config,
      seed,
      builtin: await this.builtinTokenizer(config, point.tokenizerHash),
      problems,
      grpoSet: point.grpoDataset,
      startHash: point.startHash,
      referenceHash: point.referenceHash,
      restoreTrainer: point.restoreTrainer,
    });
    if (point.next.type === 'request') {
      await this.requestRollouts(run, point.next.step, point.startHash);
      return null;
    }
    if (point.next.type === 'finish') {
      await this.finishGrpo(run, point.startHash);
      return null;
    }
    run.state = events.reduce(evolve, run.state);
    return run;
  }

  private async runSft(
    runId: string,
    config: ExperimentConfig,
    seed: number,
    model: TransformerPolicy,
    tokenizer: ByteBpeTokenizer,
    tokenizerHash: string,
    traces: TraceRowLike[],
    backend: BackendInfo,
    pool: ComputePool,
  ) {
    const sft = config.sft!;
    const context = model.config.context;
    const { sequences, truncated, promptsShortened, chatRowsDropped } = sftExamples(
      tokenizer,
      traces,
      context,
    );
    if (sequences.length === 0)
      throw new Error(`SFT: none of the ${traces.length} traces fits the context of ${context} tokens`);
    // The steps run on the compute pool's workers (model replicas), off this event loop.
    const trainer = await DataParallelSft.open(
      pool,
      model,
      sequences,
      sftTrainerConfig(sft, {
        padId: tokenizer.specialTokens.pad,
        context,
        dataSeed: deriveSeed(seed, 'sft-data'),
      }),
    );
    // The workers compute the next step while this thread records the last one.
    const startStep = () => {
      const started = trainer.step();
      started.catch(() => undefined); // awaited below; a failure while recording must not go unhandled
      return started;
    };
    try {
      let next = sft.steps > 0 ? startStep() : null;
      for (let step = 1; step <= sft.steps; step++) {
        const m = await next!;
        next = step < sft.steps ? startStep() : null;
        await this.append(runId, [
          sftStepCompleted(runId, sft, step, m, { truncated, promptsShortened, chatRowsDropped }, pool.size),
        ]);
        this.options.onProgress?.(runId, 'sft', step, sft.steps);
      }
      // The checkpoint is the workers' replica (all are equal), saved from this thread's copy of the model.
      const trained = await trainer.state();
      assignWeights(model, trained.weights);
      const saved = await savePolicyCheckpoint(this.options.blobStore, model, {
        tokenizerHash,
        backend: backend.name,
        trainer: trained.trainer,
      });
      await this.append(runId, [
        runEvent(runId, 'checkpoint.saved', ['sft', sft.steps], {
          phase: 'sft',
          step: sft.steps,
          ...saved,
        }),
      ]);
      return saved;
    } finally {
      await trainer.close();
    }
  }

  /** Asks for a step's rollouts (after `completed`, the previous step's completion, in the same append). */
  private async requestRollouts(
    run: GrpoRun,
    step: number,
    policyVersion: string,
    completed: NewEvent[] = [],
  ): Promise<void> {
    const recorded = await this.append(
      run.runId,
      requestRollouts(run.state.plan, step, policyVersion, completed),
    );
    run.state = recorded.map(asRunEvent).reduce(evolve, run.state);
  }

  private async onRewardScored(event: RecordedEventOf<'reward.scored' | 'reward.failed'>): Promise<void> {
    const run = this.runs.get(event.streamId) ?? (await this.restore(event.streamId));
    if (!run) return;
    const delivered = asRunEvent(event) as Extract<RunEvent, { type: 'reward.scored' | 'reward.failed' }>;
    const decisions = decide({ type: 'deliver-score', event: delivered }, run.state);
    run.state = evolve(run.state, delivered);
    for (const decision of decisions) await this.carryOut(run, decision);
  }

  private async carryOut(run: GrpoRun, decision: GrpoDecision): Promise<void> {
    switch (decision.type) {
      case 'fail-run':
        throw new Error(decision.error);
      case 'grpo.step.training':
        run.state = evolve(run.state, decision);
        return this.update(run);
      case 'append':
        // Carried out by update: the step's completion needs its checkpoint first.
        throw new Error(`training: unexpected ${decision.type} decision outside a step update`);
    }
  }

  /** One GRPO update from the step's recorded rollouts and scores, in request order (not arrival order). */
  private async update(run: GrpoRun): Promise<void> {
    const step = run.state.step;
    const events = await this.options.eventStore.readStream(run.runId, {
      fromPosition: run.state.requestPosition,
      types: ['rollouts.requested', 'rollout.generated', 'reward.scored'],
    });
    const [opening] = events;
    if (opening?.type !== 'rollouts.requested')
      throw new Error(`training: step ${step} of ${run.runId} does not begin with its rollouts.requested`);
    const request = opening.payload;
    const rollouts = events
      .filter((e) => e.type === 'rollout.generated')
      .map((e) => e.payload)
      .filter((r) => r.step === step);
    const rewards = new Map<string, Record<string, number>>();
    for (const e of events) {
      if (e.type !== 'reward.scored') continue;
      const s = e.payload;
      if (s.step !== step) continue;
      rewards.set(s.rolloutId, { ...(rewards.get(s.rolloutId) ?? {}), [s.rewardId]: s.total });
    }
    const { tokens, context } = run.policy;
    const groups: RolloutGroup[] = request.prompts.map((prompt) => {
      const row = run.rows[prompt.rowIndex];
      const promptIds = promptTokens(
        tokens,
        row.messages,
        context,
        Math.min(request.sampling.maxTokens, context - 2),
      ).ids;
      const completions = rollouts
        .filter((r) => r.promptId === prompt.promptId)
        .sort((a, b) => a.groupIndex - b.groupIndex)
        .map((r) => ({
          completionIds: r.tokenIds ?? tokens.encode(r.completion),
          rewards: rewards.get(r.rolloutId) ?? {},
          truncated: r.truncated,
        }));
      if (completions.length !== request.groupSize)
        throw new Error(
          `step ${step}: prompt ${prompt.promptId} has ${completions.length} rollouts, expected ${request.groupSize}`,
        );
      return { promptIds: promptIds.slice(0, context - 1), completions };
    });
    const metrics = await run.policy.train(groups);
    const saved = await run.policy.saveTrained();
    const [next] = decide(
      {
        type: 'complete-step',
        trained: {
          metrics: metrics[metrics.length - 1],
          checkpoint: saved,
          computeWorkers: run.policy.workers,
        },
      },
      run.state,
    );
    if (next.type !== 'append')
      throw new Error(`training: step ${step} completed with a ${next.type} decision`);
    const recorded = await this.append(run.runId, next.events);
    if (next.finished) this.close(run);
    else run.state = recorded.map(asRunEvent).reduce(evolve, run.state);
    this.options.onProgress?.(run.runId, 'grpo', step, run.state.plan.grpo.steps);
  }

  private async finishGrpo(run: GrpoRun, checkpointHash: string): Promise<void> {
    await this.append(run.runId, finishGrpo(run.state.plan, checkpointHash));
    this.close(run);
  }

  /** A run whose GRPO ended: its models and workers go. */
  private close(run: GrpoRun): void {
    this.dispose(run);
    this.runs.delete(run.runId);
  }

  private dispose(run: GrpoRun): void {
    void run.policy.close();
  }
}
