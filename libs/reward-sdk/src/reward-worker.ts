import { performance } from 'node:perf_hooks';
import {
  ofType,
  partitionKeyOf,
  REWARD_REGISTRY_STREAM,
  storableText,
  type PayloadOf,
  type Producer,
} from '@recon/contracts';
import {
  canonicalJson,
  deterministicEventId,
  IdempotencyConflictError,
  sha256Hex,
  type BlobStore,
  type EventStore,
  type NewEvent,
  type RecordedEvent,
} from '@recon/eventlog';
import { ownedStreamsHandler, type RunRequest } from '@recon/experiment';
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
/** How many scored rollouts this worker remembers (their deliveries, or redeliveries, record nothing). */
const SCORED_MEMORY = 4096;

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
  private readonly config: Config;
  private consumer: Consumer | null = null;
  /** What this member is delivered now (see Consumer.delivers); known once subscribe() has returned. */
  private delivered: Promise<Consumer['delivers']> = Promise.resolve(() => false);
  /** Rollout event ids this worker has recorded a score for (insertion ordered, bounded). */
  private readonly scored = new Set<string>();
  /** The rollout append read last: one read serves the batches of all its keys. */
  private appendRead: {
    streamId: string;
    first: number;
    last: number;
    rollouts: RecordedEvent<'rollout.generated'>[];
  } | null = null;

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
    // Events may be delivered before subscribe() returns the consumer that says what this member is handed.
    let known: (delivers: Consumer['delivers']) => void = () => undefined;
    this.delivered = new Promise((resolve) => (known = resolve));
    try {
      this.consumer = await this.options.bus.subscribe(
        { group: this.group, types: ['rollouts.requested', 'rollout.generated', 'rescore.requested'] },
        // Rollouts of training runs, requests of rescore streams; a synthetic run's rollouts are not scored.
        ownedStreamsHandler(
          { eventStore: this.options.eventStore, group: this.group, producer: this.options.producer },
          { run: (event, run) => this.onRunEvent(event, run), rescore: (event) => this.onRescore(event) },
        ),
      );
    } finally {
      const consumer = this.consumer as Consumer | null;
      known(consumer ? (event) => consumer.delivers(event) : () => false);
    }
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
        this.remember(runId, event.payload);
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

  /** A run is scored only by the rewards its config asks for. */
  private async onRunEvent(event: RecordedEvent, run: RunRequest): Promise<void> {
    const wanted = run.config.rewards.some(
      (r) => r.id === this.reward.id && (!r.version || r.version === this.reward.version),
    );
    if (!wanted) return;
    if (event.type === 'rollouts.requested') this.remember(event.streamId, event.payload);
    else if (event.type === 'rollout.generated') await this.scoreRollouts(event);
  }

  private async onRescore(event: RecordedEvent): Promise<void> {
    if (event.type !== 'rescore.requested') return;
    const request = event.payload;
    if (request.rewardId === this.reward.id && request.rewardVersion === this.reward.version)
      await this.rescore(event, request.sourceRunId);
  }

  /**
   * Scores a rollout together with the other rollouts of its append (the rollout worker's batch, named by
   * its meta) that this member is delivered too, in one append: the same events, ids and causes as one
   * append per rollout, in one transaction per rollout append instead of one per rollout. Where the members
   * of a group share a run's rollouts by partition key (Kafka), "delivered too" means the keys of the
   * partitions this member holds (Consumer.delivers): a member holding them all scores the whole append on
   * the first delivery (its keys arrive one partition batch after another), members holding some keys each
   * score theirs. The deliveries of rollouts scored that way record nothing; should a partition have moved
   * meanwhile, its new member's scores are the same events (deterministic ids), recorded once.
   */
  private async scoreRollouts(event: RecordedEvent<'rollout.generated'>): Promise<void> {
    if (this.scored.has(event.eventId)) return;
    const rollouts = [event, ...(await this.restOfAppend(event))].sort((a, b) => a.position - b.position);
    const scores: NewEvent[] = [];
    for (const rollout of rollouts)
      scores.push(await this.score(event.streamId, event.streamId, rollout.payload, rollout));
    await this.appendScores(event.streamId, scores);
    for (const rollout of rollouts) this.scored.add(rollout.eventId);
    for (const id of this.scored) {
      if (this.scored.size <= SCORED_MEMORY) break;
      this.scored.delete(id);
    }
  }

  /**
   * The other rollouts of this one's append (consecutive positions, one cause) with this one's key or
   * delivered to this member, and not scored by it yet.
   */
  private async restOfAppend(
    event: RecordedEvent<'rollout.generated'>,
  ): Promise<RecordedEvent<'rollout.generated'>[]> {
    const { batchIndex, batchSize } = event.meta as { batchIndex?: unknown; batchSize?: unknown };
    if (!Number.isInteger(batchIndex) || !Number.isInteger(batchSize)) return [];
    const first = event.position - (batchIndex as number);
    const last = first + (batchSize as number) - 1;
    if (first === last) return [];
    let read = this.appendRead;
    if (!read || read.streamId !== event.streamId || read.first !== first || read.last !== last) {
      const rollouts = await this.options.eventStore.readStream(event.streamId, {
        fromPosition: first,
        toPosition: last,
        types: ['rollout.generated'],
      });
      read = this.appendRead = { streamId: event.streamId, first, last, rollouts };
    }
    const delivers = await this.delivered;
    const key = partitionKeyOf(event);
    return read.rollouts.filter(
      (e) =>
        e.position !== event.position &&
        e.causationId === event.causationId &&
        e.meta.batchSize === batchSize &&
        (partitionKeyOf(e) === key || delivers(e)) &&
        !this.scored.has(e.eventId),
    );
  }

  /**
   * One append; when part of it is recorded already (scored one at a time by another worker of the group,
   * or by an earlier version), the events one by one, each recorded at most once.
   */
  private async appendScores(streamId: string, events: NewEvent[]): Promise<void> {
    try {
      await this.append(streamId, events);
    } catch (error) {
      if (!(error instanceof IdempotencyConflictError) || events.length === 1) throw error;
      for (const event of events) await this.append(streamId, [event]);
    }
  }

  /** Scores every rollout of the source run into the derived stream the request opened. */
  private async rescore(request: RecordedEvent, sourceRunId: string): Promise<void> {
    const events = await this.options.eventStore.readStream(sourceRunId, {
      types: ['rollouts.requested', 'rollout.generated'],
    });
    for (const e of events) if (e.type === 'rollouts.requested') this.remember(sourceRunId, e.payload);
    const rollouts = events.filter(ofType('rollout.generated'));
    for (let i = 0; i < rollouts.length; i += RESCORE_BATCH) {
      const batch: NewEvent[] = [];
      for (const rollout of rollouts.slice(i, i + RESCORE_BATCH))
        batch.push(await this.score(request.streamId, sourceRunId, rollout.payload, request));
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
