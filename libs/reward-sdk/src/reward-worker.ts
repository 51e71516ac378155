import { performance } from 'node:perf_hooks';
import { REWARD_REGISTRY_STREAM, storableText, type PayloadOf, type Producer } from '@recon/contracts';
import {
  canonicalJson,
  deterministicEventId,
  sha256Hex,
  type BlobStore,
  type EventStore,
  type NewEvent,
  type RecordedEvent,
} from '@recon/eventlog';
import { readRunConfig } from '@recon/experiment';
import { loadRegisteredDataset } from '@recon/persistence';
import type { Consumer, EventBus } from '@recon/transport';
import type { RewardDefinition, RewardScore } from './define-reward';

interface PromptRef {
  datasetVersion: string;
  rowIndex: number;
}

type Rollout = PayloadOf<'rollout.generated'>;

export interface RewardWorkerOptions {
  eventStore: EventStore;
  blobStore: BlobStore;
  bus: EventBus;
  producer: Producer;
}

/** Rollouts scored per append when a whole run is rescored. */
const RESCORE_BATCH = 256;

/**
 * Serves one reward definition: registers it (`reward.service.registered` on the 'reward-services'
 * stream), scores every rollout of every run into the run's stream (`reward.scored`, or `reward.failed`
 * when the score function throws), and answers `rescore.requested` for its id and version by scoring every
 * recorded rollout of the source run into the derived stream. Event ids derive from (stream, rollout,
 * reward, version), so a redelivered event or a second worker of the group never records a score twice.
 */
export class RewardWorker<Row, Config> {
  private readonly prompts = new Map<string, PromptRef>();
  private readonly datasets = new Map<string, Promise<Row[]>>();
  /** Per run: whether its config names this reward (a run is scored only by the rewards it asks for). */
  private readonly wanted = new Map<string, Promise<boolean>>();
  private readonly config: Config;
  private consumer: Consumer | null = null;

  constructor(
    private readonly reward: RewardDefinition<Row, Config>,
    private readonly options: RewardWorkerOptions,
  ) {
    try {
      this.config = (reward.config ? reward.config.schema.parse(reward.config.value) : undefined) as Config;
    } catch (error) {
      throw new Error(`reward '${reward.id}@${reward.version}': invalid config: ${(error as Error).message}`);
    }
  }

  get group(): string {
    return `reward:${this.reward.id}`;
  }

  /** sha-256 of the resolved config: two instances with different configs under one version show up. */
  get configHash(): string {
    return sha256Hex(canonicalJson(this.config ?? {}));
  }

  async start(): Promise<void> {
    this.consumer = await this.options.bus.subscribe(
      { group: this.group, types: ['rollouts.requested', 'rollout.generated', 'rescore.requested'] },
      (event) => this.handle(event),
    );
    // Registered only once it consumes: a trainer that sees the registration can count on the scores.
    await this.options.eventStore.append(
      REWARD_REGISTRY_STREAM,
      [
        {
          type: 'reward.service.registered',
          payload: {
            rewardId: this.reward.id,
            rewardVersion: this.reward.version,
            configHash: this.configHash,
            instance: this.options.producer.instance,
          },
        },
      ],
      { expectedVersion: 'any', producer: this.options.producer },
    );
  }

  async stop(): Promise<void> {
    await this.consumer?.stop();
    this.consumer = null;
  }

  private key(runId: string, promptId: string): string {
    return `${runId}\u0000${promptId}`;
  }

  private remember(runId: string, payload: PayloadOf<'rollouts.requested'>): void {
    for (const prompt of payload.prompts) {
      this.prompts.set(this.key(runId, prompt.promptId), {
        datasetVersion: prompt.datasetVersion,
        rowIndex: prompt.rowIndex,
      });
    }
  }

  /** The prompt's dataset row; after a restart the request is read back from the run's stream. */
  private async rowOf(runId: string, promptId: string): Promise<Row> {
    let ref = this.prompts.get(this.key(runId, promptId));
    if (!ref) {
      for (const event of await this.options.eventStore.readStream(runId, { types: ['rollouts.requested'] }))
        this.remember(runId, event.payload as PayloadOf<'rollouts.requested'>);
      ref = this.prompts.get(this.key(runId, promptId));
      if (!ref) throw new Error(`run ${runId}: no rollouts.requested names prompt '${promptId}'`);
    }
    let rows = this.datasets.get(ref.datasetVersion);
    if (!rows) {
      const version = ref.datasetVersion;
      // A failed load (the database away) is not kept: the next score loads again.
      rows = loadRegisteredDataset<Row>(this.options, version).then(
        (dataset) => dataset.rows,
        (error: unknown) => {
          this.datasets.delete(version);
          throw error;
        },
      );
      this.datasets.set(ref.datasetVersion, rows);
    }
    const row = (await rows)[ref.rowIndex];
    if (row === undefined)
      throw new Error(`dataset ${ref.datasetVersion} has no row ${ref.rowIndex} (prompt '${promptId}')`);
    return row;
  }

  private wantedBy(runId: string): Promise<boolean> {
    let wanted = this.wanted.get(runId);
    if (!wanted) {
      wanted = readRunConfig(this.options.eventStore, runId).then(({ config }) =>
        config.rewards.some(
          (r) => r.id === this.reward.id && (!r.version || r.version === this.reward.version),
        ),
      );
      wanted.catch(() => this.wanted.delete(runId));
      this.wanted.set(runId, wanted);
    }
    return wanted;
  }

  private async handle(event: RecordedEvent): Promise<void> {
    if (event.type !== 'rescore.requested' && !(await this.wantedBy(event.streamId))) return;
    if (event.type === 'rollouts.requested') {
      this.remember(event.streamId, event.payload as PayloadOf<'rollouts.requested'>);
    } else if (event.type === 'rollout.generated') {
      const scored = await this.score(event.streamId, event.streamId, event.payload as Rollout, event);
      await this.append(event.streamId, [scored]);
    } else {
      const request = event.payload as PayloadOf<'rescore.requested'>;
      if (request.rewardId === this.reward.id && request.rewardVersion === this.reward.version)
        await this.rescore(event, request.sourceRunId);
    }
  }

  /** Scores every rollout of the source run into the derived stream the request opened. */
  private async rescore(request: RecordedEvent, sourceRunId: string): Promise<void> {
    const events = await this.options.eventStore.readStream(sourceRunId, {
      types: ['rollouts.requested', 'rollout.generated'],
    });
    for (const e of events)
      if (e.type === 'rollouts.requested')
        this.remember(sourceRunId, e.payload as PayloadOf<'rollouts.requested'>);
    const rollouts = events.filter((e) => e.type === 'rollout.generated');
    for (let i = 0; i < rollouts.length; i += RESCORE_BATCH) {
      const batch: NewEvent[] = [];
      for (const rollout of rollouts.slice(i, i + RESCORE_BATCH))
        batch.push(await this.score(request.streamId, sourceRunId, rollout.payload as Rollout, request));
      await this.append(request.streamId, batch);
    }
  }

  /** `reward.scored`, or `reward.failed` when the reward's own code throws (a bug no retry fixes). */
  private async score(
    streamId: string,
    runId: string,
    rollout: Rollout,
    cause: RecordedEvent,
  ): Promise<NewEvent> {
    const row = await this.rowOf(runId, rollout.promptId);
    const started = performance.now();
    let score: RewardScore;
    const identity = {
      rolloutId: rollout.rolloutId,
      step: rollout.step,
      rewardId: this.reward.id,
      rewardVersion: this.reward.version,
    };
    const envelope = { causationId: cause.eventId, correlationId: cause.correlationId };
    try {
      score = this.reward.score(
        { runId, promptId: rollout.promptId, completion: rollout.completion, row },
        this.config,
      );
      if (!Number.isFinite(score.total)) throw new Error(`total is ${score.total}, not a finite number`);
    } catch (error) {
      return {
        type: 'reward.failed',
        eventId: deterministicEventId(
          streamId,
          'reward.failed',
          rollout.rolloutId,
          this.reward.id,
          this.reward.version,
        ),
        ...envelope,
        payload: { ...identity, error: storableText((error as Error)?.message || String(error), 2000) },
      };
    }
    return {
      type: 'reward.scored',
      eventId: deterministicEventId(
        streamId,
        'reward.scored',
        rollout.rolloutId,
        this.reward.id,
        this.reward.version,
      ),
      ...envelope,
      payload: {
        ...identity,
        total: score.total,
        components: score.components,
        ...(score.details ? { details: storableDetails(score.details) } : {}),
      },
      meta: { durationMs: performance.now() - started },
    };
  }

  private async append(streamId: string, events: NewEvent[]): Promise<void> {
    if (events.length === 0) return;
    await this.options.eventStore.append(streamId, events, {
      expectedVersion: 'any',
      producer: this.options.producer,
    });
  }
}

/** A reward's details may quote model output (e.g. the parsed answer): keep their strings storable. */
function storableDetails(details: NonNullable<RewardScore['details']>): NonNullable<RewardScore['details']> {
  return Object.fromEntries(
    Object.entries(details).map(([k, v]) => [k, typeof v === 'string' ? storableText(v) : v]),
  );
}
