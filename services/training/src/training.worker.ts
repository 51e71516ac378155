import type { PayloadOf } from '@recon/contracts';
import {
  deterministicEventId,
  type BlobStore,
  type EventStore,
  type NewEvent,
  type RecordedEvent,
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
  DataParallelGrpo,
  DataParallelSft,
  GENERATION_SPLIT,
  loadPolicyCheckpoint,
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
import { awaitRewardServices } from './reward-services';
import { grpoTrainerConfig } from './grpo-trainer-config';
import { sftExamples, type TraceRowLike } from './sft-examples';

interface ProblemRowLike {
  messages: Array<{ role: 'system' | 'user' | 'assistant'; content: string }>;
  gold: string;
  category?: string;
}

type Dataset = PayloadOf<'dataset.resolved'>['datasets'][number];

/** A run in its GRPO phase: the live policy and trainer, and which step's scores it is waiting for. */
interface GrpoRun {
  runId: string;
  config: ExperimentConfig;
  grpo: NonNullable<ExperimentConfig['grpo']>;
  seed: number;
  tokenizer: ByteBpeTokenizer;
  tokenizerHash: string;
  /** This thread's copy of the policy: receives the workers' weights for each checkpoint. */
  model: TransformerPolicy;
  /** The updates run on the compute pool's workers (replicas of the policy, its reference and AdamW). */
  trainer: DataParallelGrpo;
  workers: number;
  dataset: Dataset;
  rows: ProblemRowLike[];
  order: number[];
  step: number;
  requestPosition: number;
  expected: number;
  scored: Set<string>;
  busy: boolean;
}

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
 * Every step, checkpoint and policy stage is an event.
 */
export class TrainingWorker {
  private consumer: Consumer | null = null;
  private readonly runs = new Map<string, GrpoRun>();
  private backend: BackendInfo | null = null;

  constructor(private readonly options: TrainingWorkerOptions) {}

  async start(): Promise<void> {
    this.consumer = await this.options.bus.subscribe(
      { group: 'training', types: ['dataset.resolved', 'reward.scored', 'reward.failed'] },
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

  /**
   * An event with an id derived from what it is, so a retried append never duplicates it. Wall-clock
   * measurements go in `meta`, never in the payload: payloads must be equal when a run is replayed.
   */
  private event<T extends NewEvent['type']>(
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

  private async handle(event: RecordedEvent): Promise<void> {
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
      if (isConnectionLoss(error)) throw error;
      await this.append(runId, [
        this.event(runId, 'run.failed', ['training'], { phase: 'training', error: (error as Error).message }),
      ]);
    }
  }

  private async beginRun(event: RecordedEvent): Promise<void> {
    const runId = event.streamId;
    if (await runHasEnded(this.options.eventStore, runId)) return;
    const { config, seed, request } = await readRunConfig(this.options.eventStore, runId);
    if (config.policy.kind !== 'builtin') return; // external policies are evaluated, not trained
    const policy = config.policy;
    // Before SFT, so a missing reward service fails the run in seconds rather than after SFT.
    if (config.grpo)
      await awaitRewardServices(
        this.options.eventStore,
        config.rewards,
        config.grpo.rewardWaitSeconds * 1000,
      );
    const datasets = (event.payload as PayloadOf<'dataset.resolved'>).datasets;
    if (request.parent) {
      await this.beginFork(runId, config, seed, request.parent, datasets);
      return;
    }
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
      this.event(runId, 'tokenizer.trained', [], {
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
      this.event(
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
      this.event(runId, 'policy.ready', ['untrained'], {
        stage: 'untrained',
        step: 0,
        checkpointHash: untrained.checkpointHash,
        final: !config.sft && !config.grpo,
      }),
    ]);

    let current = untrained;
    if (config.sft) {
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
      await this.append(runId, [
        this.event(runId, 'policy.ready', ['sft'], {
          stage: 'sft',
          step: config.sft.steps,
          checkpointHash: current.checkpointHash,
          final: !config.grpo,
        }),
      ]);
    }
    if (!config.grpo) {
      model.dispose();
      return;
    }
    if (!grpoSet) throw new Error('grpo is configured but no dataset was resolved for it');
    model.dispose();
    // GRPO always starts from the stored checkpoint (never from the live model), so a run restored after
    // a crash takes exactly the same path as one that never stopped.
    const run = await this.grpoRun({
      runId,
      config,
      seed,
      tokenizer,
      tokenizerHash,
      problems,
      grpoSet,
      startHash: current.checkpointHash,
      referenceHash: current.checkpointHash,
    });
    if (config.grpo.steps === 0) {
      await this.finishGrpo(run, current.checkpointHash);
      return;
    }
    const saved = await savePolicyCheckpoint(this.options.blobStore, run.model, {
      tokenizerHash,
      backend: backend.name,
    });
    await this.requestRollouts(run, 1, saved.checkpointHash);
  }

  /**
   * A fork (`recon fork <run> --from-step N`) continues its parent's GRPO from the checkpoint of step N (0:
   * the SFT checkpoint) with its own settings. The fork's stream starts with the parent's tokenizer,
   * policy and SFT stage, so it can be audited, evaluated and resumed on its own.
   */
  private async beginFork(
    runId: string,
    config: ExperimentConfig,
    seed: number,
    parent: { runId: string; step: number },
    datasets: Dataset[],
  ): Promise<void> {
    const grpo = config.grpo;
    if (!grpo) throw new Error('fork: the config has no grpo section to continue');
    if (parent.step >= grpo.steps)
      throw new Error(`fork: --from-step ${parent.step} must be before grpo.steps (${grpo.steps})`);
    await awaitRewardServices(this.options.eventStore, config.rewards, grpo.rewardWaitSeconds * 1000);
    const events = await this.options.eventStore.readStream(parent.runId);
    const payloadOf = <T extends NewEvent['type']>(
      type: T,
      where: (p: PayloadOf<T>) => boolean = () => true,
    ) =>
      events
        .map((e) => (e.type === type ? (e.payload as PayloadOf<T>) : null))
        .filter((p): p is PayloadOf<T> => p !== null && where(p));
    const [tokenizerTrained] = payloadOf('tokenizer.trained');
    const [initialised] = payloadOf('policy.initialised');
    const sftReady =
      payloadOf('policy.ready', (p) => p.stage === 'sft')[0] ??
      payloadOf('policy.ready', (p) => p.stage === 'untrained')[0];
    if (!tokenizerTrained || !initialised || !sftReady)
      throw new Error(`fork: the parent run ${parent.runId} has not finished SFT`);
    const grpoCheckpoints = payloadOf('checkpoint.saved', (p) => p.phase === 'grpo');
    const startHash =
      parent.step === 0
        ? sftReady.checkpointHash
        : grpoCheckpoints.find((c) => c.step === parent.step)?.checkpointHash;
    if (!startHash)
      throw new Error(
        `fork: the parent run ${parent.runId} has no GRPO checkpoint at step ${parent.step} (it has ${grpoCheckpoints.map((c) => c.step).join(', ') || 'none'})`,
      );
    await this.append(runId, [
      this.event(runId, 'tokenizer.trained', [], tokenizerTrained),
      this.event(runId, 'policy.initialised', [], initialised),
      this.event(runId, 'policy.ready', ['sft'], {
        stage: 'sft',
        step: sftReady.step,
        checkpointHash: sftReady.checkpointHash,
        final: false,
      }),
    ]);
    this.backend ??= activeBackend() ?? (await selectBackend('auto'));
    const grpoSet = datasets.find((d) => d.role === 'grpo');
    if (!grpoSet) throw new Error('fork: the parent resolved no GRPO dataset');
    const problems = (await loadRegisteredDataset<ProblemRowLike>(this.options, grpoSet.versionHash)).rows;
    const tokenizer = await loadTokenizer(this.options.blobStore, tokenizerTrained.tokenizerHash);
    const run = await this.grpoRun({
      runId,
      config,
      seed,
      tokenizer,
      tokenizerHash: tokenizerTrained.tokenizerHash,
      problems,
      grpoSet,
      startHash,
      referenceHash: sftReady.checkpointHash,
      restoreTrainer: parent.step > 0,
    });
    await this.requestRollouts(run, parent.step + 1, startHash);
  }

  private async grpoRun(args: {
    runId: string;
    config: ExperimentConfig;
    seed: number;
    tokenizer: ByteBpeTokenizer;
    tokenizerHash: string;
    problems: ProblemRowLike[];
    grpoSet: Dataset;
    startHash: string;
    referenceHash: string;
    restoreTrainer?: boolean;
  }): Promise<GrpoRun> {
    const { runId, config, seed, tokenizer, tokenizerHash, problems, grpoSet } = args;
    const grpo = config.grpo!;
    const lora = grpo.lora
      ? { lora: { rank: grpo.lora.rank, alpha: grpo.lora.alpha, targets: grpo.lora.targets } }
      : {};
    const start = await loadPolicyCheckpoint(this.options.blobStore, args.startHash, lora);
    const model = start.model;
    let reference: TransformerPolicy | 'adapters-off' | undefined;
    if (grpo.lora) reference = grpo.beta > 0 ? 'adapters-off' : undefined;
    else if (grpo.beta > 0)
      reference = (await loadPolicyCheckpoint(this.options.blobStore, args.referenceHash)).model;
    const pool = await policyComputePool(
      this.backend!,
      resolveWorkerCount(config.policy.kind === 'builtin' ? config.policy.workers : undefined),
    );
    const trainerConfig = grpoTrainerConfig(config, {
      padId: tokenizer.specialTokens.pad,
      context: model.config.context,
    });
    let trainer: DataParallelGrpo;
    try {
      trainer = await DataParallelGrpo.open(pool, model, reference, trainerConfig, {
        maxRows: grpo.promptsPerStep * grpo.numGenerations,
        ...(args.restoreTrainer ? { state: start.trainer } : {}),
      });
    } catch (error) {
      model.dispose();
      throw error;
    } finally {
      // The workers hold the reference now.
      if (reference instanceof TransformerPolicy) reference.dispose();
    }
    const run: GrpoRun = {
      runId,
      config,
      grpo,
      seed,
      tokenizer,
      tokenizerHash,
      model,
      trainer,
      workers: pool.size,
      dataset: grpoSet,
      rows: problems,
      order: new Mulberry32(deriveSeed(seed, 'grpo-prompts')).permutation(problems.length),
      step: 0,
      requestPosition: 0,
      expected: 0,
      scored: new Set(),
      busy: false,
    };
    this.runs.set(runId, run);
    return run;
  }

  /**
   * Rebuilds a run's GRPO state from its events after a restart (a crash, a redeployed pod): the last
   * checkpoint with its optimiser state, the step in flight and the scores it already has. Returns null
   * when the run is not in its GRPO phase (SFT is redone from its redelivered trigger instead).
   */
  private async restore(runId: string): Promise<GrpoRun | null> {
    if (await runHasEnded(this.options.eventStore, runId)) return null;
    const events = await this.options.eventStore.readStream(runId);
    const last = <T extends string>(type: T, where: (p: never) => boolean = () => true) =>
      [...events].reverse().find((e) => e.type === type && where(e.payload as never));
    const requests = events.filter((e) => e.type === 'rollouts.requested');
    if (requests.length === 0 || last('policy.ready', (p: PayloadOf<'policy.ready'>) => p.stage === 'grpo'))
      return null;
    const { config, seed, request: runRequest } = await readRunConfig(this.options.eventStore, runId);
    const datasets = (last('dataset.resolved')!.payload as PayloadOf<'dataset.resolved'>).datasets;
    const grpoSet = datasets.find((d) => d.role === 'grpo')!;
    const problems = (await loadRegisteredDataset<ProblemRowLike>(this.options, grpoSet.versionHash)).rows;
    const tokenizerHash = (last('tokenizer.trained')!.payload as PayloadOf<'tokenizer.trained'>)
      .tokenizerHash;
    const tokenizer = await loadTokenizer(this.options.blobStore, tokenizerHash);
    const readyBefore =
      last('policy.ready', (p: PayloadOf<'policy.ready'>) => p.stage === 'sft') ?? last('policy.ready');
    const referenceHash = (readyBefore!.payload as PayloadOf<'policy.ready'>).checkpointHash;
    const lastCheckpoint = last('checkpoint.saved', (p: PayloadOf<'checkpoint.saved'>) => p.phase === 'grpo');
    const firstRequest = requests[0].payload as PayloadOf<'rollouts.requested'>;
    const startHash = lastCheckpoint
      ? (lastCheckpoint.payload as PayloadOf<'checkpoint.saved'>).checkpointHash
      : firstRequest.policyVersion;
    this.backend ??= activeBackend() ?? (await selectBackend('auto'));
    const run = await this.grpoRun({
      runId,
      config,
      seed,
      tokenizer,
      tokenizerHash,
      problems,
      grpoSet,
      startHash,
      referenceHash,
      restoreTrainer: !!lastCheckpoint || (runRequest.parent?.step ?? 0) > 0,
    });
    const request = requests[requests.length - 1];
    const step = (request.payload as PayloadOf<'rollouts.requested'>).step;
    if (last('grpo.step.completed', (p: PayloadOf<'grpo.step.completed'>) => p.step === step)) {
      if (step < run.grpo.steps) await this.requestRollouts(run, step + 1, startHash);
      else await this.finishGrpo(run, startHash);
      return null;
    }
    const payload = request.payload as PayloadOf<'rollouts.requested'>;
    run.step = step;
    run.requestPosition = request.position;
    run.expected = payload.prompts.length * payload.groupSize * config.rewards.length;
    for (const e of events)
      if (e.type === 'reward.scored' && e.position > request.position) {
        const score = e.payload as PayloadOf<'reward.scored'>;
        if (score.step === step && config.rewards.some((r) => r.id === score.rewardId))
          run.scored.add(`${score.rolloutId}\u0000${score.rewardId}`);
      }
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
    const trainer = await DataParallelSft.open(pool, model, sequences, {
      batchSize: sft.batchSize,
      gradientAccumulationSteps: sft.gradientAccumulation,
      maxGradNorm: sft.maxGradNorm,
      padId: tokenizer.specialTokens.pad,
      maxLength: context,
      seed: deriveSeed(seed, 'sft-data'),
      lengthGroupWindow: sft.lengthGroupWindow,
      schedule: {
        type: sft.schedule,
        learningRate: sft.learningRate,
        totalSteps: Math.max(sft.steps, 1),
        warmupSteps: sft.warmupSteps,
      },
      optimizer: { weightDecay: sft.weightDecay },
    });
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
          this.event(
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
                truncatedAtContext: truncated,
                promptsShortened,
                ...(chatRowsDropped > 0 ? { chatRowsDropped } : {}),
              },
            },
            { stepTimeMs: m.stepTimeMs, computeWorkers: pool.size },
          ),
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
        this.event(runId, 'checkpoint.saved', ['sft', sft.steps], {
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

  /**
   * Asks for a step's rollouts. `completed` (the previous step's completion and checkpoint) commits in the
   * same append: one transaction and one bus wake-up per step fewer, and no restart can find one without
   * the other.
   */
  private async requestRollouts(
    run: GrpoRun,
    step: number,
    policyVersion: string,
    completed: NewEvent[] = [],
  ): Promise<void> {
    const { grpo } = run;
    const prompts = Array.from({ length: grpo.promptsPerStep }, (_, i) => {
      const rowIndex = run.order[((step - 1) * grpo.promptsPerStep + i) % run.order.length];
      const category = run.rows[rowIndex].category;
      return {
        promptId: `row-${rowIndex}`,
        datasetVersion: run.dataset.versionHash,
        rowIndex,
        ...(category ? { category } : {}),
      };
    });
    // The same prompt twice in one step would make two groups share ids; a step takes distinct rows.
    const unique = [...new Map(prompts.map((p) => [p.promptId, p])).values()];
    run.step = step;
    run.expected = unique.length * grpo.numGenerations * run.config.rewards.length;
    run.scored = new Set();
    const request = {
      step,
      policyVersion,
      groupSize: grpo.numGenerations,
      seed: deriveSeed(run.seed, 'rollouts', step),
      sampling: {
        temperature: grpo.temperature,
        topP: grpo.topP,
        topK: grpo.topK,
        maxTokens: grpo.maxCompletionTokens,
        stop: [],
      },
      prompts: unique,
    };
    // The request and its shards commit together: the rollout workers act on the shards.
    const shards = Math.min(grpo.rolloutShards, unique.length);
    const recorded = await this.append(run.runId, [
      ...completed,
      this.event(run.runId, 'rollouts.requested', [step], request),
      ...Array.from({ length: shards }, (_, shard) =>
        this.event(run.runId, 'rollout.shard.requested', [step, shard], {
          ...request,
          prompts: unique.filter((_, i) => i % shards === shard),
          shard,
          shards,
        }),
      ),
    ]);
    run.requestPosition = recorded[completed.length].position;
  }

  private async onRewardScored(event: RecordedEvent): Promise<void> {
    const run = this.runs.get(event.streamId) ?? (await this.restore(event.streamId));
    if (!run) return;
    const score = event.payload as PayloadOf<'reward.scored'>;
    if (score.step !== run.step || !run.config.rewards.some((r) => r.id === score.rewardId)) return;
    if (event.type === 'reward.failed') {
      const failure = event.payload as PayloadOf<'reward.failed'>;
      throw new Error(
        `reward ${failure.rewardId}@${failure.rewardVersion} failed to score rollout ${failure.rolloutId} (GRPO step ${failure.step}): ${failure.error}`,
      );
    }
    run.scored.add(`${score.rolloutId}\u0000${score.rewardId}`);
    if (run.scored.size < run.expected || run.busy) return;
    run.busy = true;
    try {
      await this.update(run);
    } finally {
      run.busy = false;
    }
  }

  /** One GRPO update from the step's recorded rollouts and scores, in request order (not arrival order). */
  private async update(run: GrpoRun): Promise<void> {
    const events = await this.options.eventStore.readStream(run.runId, {
      fromPosition: run.requestPosition,
      types: ['rollouts.requested', 'rollout.generated', 'reward.scored'],
    });
    const request = events[0].payload as PayloadOf<'rollouts.requested'>;
    const rollouts = events
      .filter((e) => e.type === 'rollout.generated')
      .map((e) => e.payload as PayloadOf<'rollout.generated'>)
      .filter((r) => r.step === run.step);
    const rewards = new Map<string, Record<string, number>>();
    for (const e of events) {
      if (e.type !== 'reward.scored') continue;
      const s = e.payload as PayloadOf<'reward.scored'>;
      if (s.step !== run.step) continue;
      rewards.set(s.rolloutId, { ...(rewards.get(s.rolloutId) ?? {}), [s.rewardId]: s.total });
    }
    const context = run.model.config.context;
    const groups: RolloutGroup[] = request.prompts.map((prompt) => {
      const row = run.rows[prompt.rowIndex];
      const promptIds = promptTokens(
        run.tokenizer,
        row.messages,
        context,
        Math.min(request.sampling.maxTokens, context - 2),
      ).ids;
      const completions = rollouts
        .filter((r) => r.promptId === prompt.promptId)
        .sort((a, b) => a.groupIndex - b.groupIndex)
        .map((r) => ({
          completionIds: r.tokenIds ?? run.tokenizer.encode(r.completion),
          rewards: rewards.get(r.rolloutId) ?? {},
          truncated: r.truncated,
        }));
      if (completions.length !== request.groupSize)
        throw new Error(
          `step ${run.step}: prompt ${prompt.promptId} has ${completions.length} rollouts, expected ${request.groupSize}`,
        );
      return { promptIds: promptIds.slice(0, context - 1), completions };
    });
    const metrics = await run.trainer.train(groups);
    const last = metrics[metrics.length - 1];
    const trained = await run.trainer.state();
    assignWeights(run.model, trained.weights);
    const saved = await savePolicyCheckpoint(this.options.blobStore, run.model, {
      tokenizerHash: run.tokenizerHash,
      backend: this.backend!.name,
      trainer: trained.trainer,
    });
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
    const step = run.step;
    const completed = [
      this.event(
        run.runId,
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
        { stepTimeMs: last.stepTimeMs, computeWorkers: run.workers },
      ),
      this.event(run.runId, 'checkpoint.saved', ['grpo', step], { phase: 'grpo', step, ...saved }),
    ];
    if (step < run.grpo.steps) await this.requestRollouts(run, step + 1, saved.checkpointHash, completed);
    else await this.finishGrpo(run, saved.checkpointHash, completed);
    this.options.onProgress?.(run.runId, 'grpo', step, run.grpo.steps);
  }

  private async finishGrpo(run: GrpoRun, checkpointHash: string, completed: NewEvent[] = []): Promise<void> {
    await this.append(run.runId, [
      ...completed,
      this.event(run.runId, 'policy.ready', ['grpo'], {
        stage: 'grpo',
        step: run.grpo.steps,
        checkpointHash,
        final: true,
      }),
    ]);
    this.dispose(run);
    this.runs.delete(run.runId);
  }

  private dispose(run: GrpoRun): void {
    run.model.dispose();
    void run.trainer.close();
  }
}
