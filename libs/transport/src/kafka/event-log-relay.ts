import { Partitioners, type Kafka, type Producer } from 'kafkajs';
import type { Pool, PoolClient } from 'pg';
import { subscribeAll, type EventStore, type RecordedEvent } from '@recon/eventlog';
import { encodeEvent } from './kafka-codec';
import { EVENTS_TOPIC, ensureKafkaTopics } from './kafka-topics';
import { HandledPositions } from './handled-positions';
import { PositionWriteBehind } from './position-write-behind';

export interface EventLogRelayOptions {
  topic?: string;
  dlqTopic?: string;
  partitions?: number;
  /** Events read from the log and sent to Kafka in one go. */
  batchSize?: number;
  /** Poll interval of the log tail when no notification arrives. */
  pollMs?: number;
  /** Wait before resuming after a failure (Kafka or Postgres unreachable), and between tries for the lock. */
  retryMs?: number;
  /** Called for every failure; the relay resumes from its stored position after retryMs. */
  onError?: (error: Error) => void;
  /** Fault injection for tests: runs after a batch is in Kafka and before the relay stores its position. */
  afterPublish?: (events: RecordedEvent[]) => Promise<void>;
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
  });

/**
 * Publishes the Postgres event log to Kafka in global-position order, so an event reaches Kafka if and only
 * if it was committed (only committed events are read). Its position (last global position in Kafka) is
 * noted after each batch is acknowledged by every in-sync replica and stored in consumer_offsets behind the
 * publishing (PositionWriteBehind: the next batch does not wait for that write); after a crash the relay
 * resumes at the stored position, so nothing is lost and at most the batches since that write are
 * published twice (consumers skip duplicates by their handled positions). The position is stored before
 * the lock is released. A Postgres advisory lock keeps one relay per topic active; others wait as stand-bys.
 */
export class EventLogRelay {
  readonly topic: string;
  private readonly positions: HandledPositions;
  private readonly stored: PositionWriteBehind;
  private readonly controller = new AbortController();
  private running: Promise<void> | null = null;
  private published = 0;

  constructor(
    private readonly store: EventStore,
    private readonly pool: Pool,
    private readonly kafka: Kafka,
    private readonly options: EventLogRelayOptions = {},
  ) {
    this.topic = options.topic ?? EVENTS_TOPIC;
    this.positions = new HandledPositions(pool);
    this.stored = new PositionWriteBehind((position) =>
      this.positions.advance(HandledPositions.relayKey(this.topic), position),
    );
  }

  /** Messages sent by this instance (duplicates after a failure included). */
  get publishedCount(): number {
    return this.published;
  }

  /** The last global position known to be in Kafka. */
  position(): Promise<number> {
    return this.positions.get(HandledPositions.relayKey(this.topic));
  }

  /** Starts relaying in the background; resolves once this instance holds the lock and runs. */
  async start(): Promise<void> {
    if (this.running) throw new Error(`the relay for topic '${this.topic}' is already started`);
    await ensureKafkaTopics(this.kafka, {
      topic: this.topic,
      dlqTopic: this.options.dlqTopic,
      partitions: this.options.partitions,
    });
    let active!: () => void;
    const isActive = new Promise<void>((resolve) => (active = resolve));
    this.running = this.run(active);
    await Promise.race([isActive, this.running]);
  }

  async stop(): Promise<void> {
    this.controller.abort();
    await this.running;
  }

  /**
   * Holds the lock, relays, and starts over when the session holding the lock is lost (PostgreSQL
   * restarted): the lock went with the session, so publishing stops until it is held again.
   */
  private async run(active: () => void): Promise<void> {
    const signal = this.controller.signal;
    const retryMs = this.options.retryMs ?? 1000;
    while (!signal.aborted) {
      let lock: PoolClient | null;
      try {
        lock = await this.acquireLock(signal, retryMs);
      } catch (error) {
        this.options.onError?.(new Error(`cannot take the relay lock: ${(error as Error).message}`));
        await sleep(retryMs, signal);
        continue;
      }
      if (!lock) return;
      active();
      const lost = new AbortController();
      // Kept for the client's life: a checked-out client's 'error' would otherwise crash the process.
      lock.on('error', (error: Error) => {
        if (lost.signal.aborted) return;
        this.options.onError?.(
          new Error(
            `lost the session holding the relay lock (${error.message}); taking the lock again before publishing on`,
          ),
        );
        lost.abort();
      });
      try {
        await this.relayWhileHolding(AbortSignal.any([signal, lost.signal]), retryMs);
      } finally {
        // Stored before the lock goes: a successor resumes where this relay got to.
        await this.stored.flush().catch((error: unknown) => this.options.onError?.(error as Error));
        if (!lost.signal.aborted)
          await lock
            .query('SELECT pg_advisory_unlock(hashtext($1))', [this.lockName()])
            .catch(() => undefined);
        lock.release(lost.signal.aborted ? true : undefined);
      }
    }
  }

  /** Publishes from the stored position; after a failure (Kafka or PostgreSQL away) starts again with a new producer. */
  private async relayWhileHolding(signal: AbortSignal, retryMs: number): Promise<void> {
    while (!signal.aborted) {
      const producer = this.kafka.producer({
        idempotent: true,
        maxInFlightRequests: 1,
        createPartitioner: Partitioners.DefaultPartitioner,
      });
      try {
        await producer.connect();
        // What this relay noted is in Kafka, stored or not yet.
        const after = Math.max(await this.position(), this.stored.position);
        await subscribeAll(this.store, this.pool, (events) => this.publish(producer, events), {
          after,
          batchSize: this.options.batchSize ?? 500,
          pollMs: this.options.pollMs ?? 200,
          signal,
        });
      } catch (error) {
        if (signal.aborted) break;
        this.options.onError?.(error as Error);
        await sleep(retryMs, signal);
      } finally {
        await producer.disconnect().catch(() => undefined);
      }
    }
  }

  private async publish(producer: Producer, events: RecordedEvent[]): Promise<void> {
    await producer.send({ topic: this.topic, acks: -1, messages: events.map(encodeEvent) });
    this.published += events.length;
    if (this.options.afterPublish) await this.options.afterPublish(events);
    // A write that failed in the background fails this batch (the relay starts over), after one more try.
    if (this.stored.failed) await this.stored.flush();
    this.stored.note(events[events.length - 1].globalPosition);
  }

  private lockName(): string {
    return `recon.relay:${this.topic}`;
  }

  /** Holds a session-level advisory lock on its own connection; if the process dies, the lock goes with it. */
  private async acquireLock(signal: AbortSignal, retryMs: number): Promise<PoolClient | null> {
    const client = await this.pool.connect();
    // A session lost while waiting fails the next try (and the client is discarded), never the process.
    client.on('error', () => undefined);
    try {
      while (!signal.aborted) {
        const result = await client.query<{ locked: boolean }>(
          'SELECT pg_try_advisory_lock(hashtext($1)) AS locked',
          [this.lockName()],
        );
        if (result.rows[0].locked) return client;
        await sleep(retryMs, signal);
      }
    } catch (error) {
      client.release(true);
      throw error;
    }
    client.release();
    return null;
  }
}
