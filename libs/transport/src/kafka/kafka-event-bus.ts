import {
  Partitioners,
  type Consumer as KafkaConsumer,
  type ConsumerConfig,
  type EachBatchPayload,
  type Kafka,
  type KafkaMessage,
  type Producer,
} from 'kafkajs';
import type { Pool } from 'pg';
import pRetry from 'p-retry';
import type { EventType } from '@recon/contracts';
import type { RecordedEvent } from '@recon/eventlog';
import {
  HandlerFailedError,
  isSubscribedType,
  type BusReadiness,
  type Consumer,
  type EventBus,
  type EventHandler,
  type SubscribeOptions,
} from '../event-bus';
import { HEADER_TYPE, PoisonMessageError, decodeEvent, headerText, messageKeyOf } from './kafka-codec';
import { partitionOfKey } from './key-partition';
import { DEAD_LETTER_TOPIC, EVENTS_TOPIC, ensureKafkaTopics } from './kafka-topics';
import { GenerationPositions, HandledPositions } from './handled-positions';
import { KafkaReadiness, type KafkaReadinessOptions } from './kafka-readiness';

export const DEFAULT_MARK_HANDLED_EVERY = 50;
export const DEFAULT_COMMIT_INTERVAL_MS = 1000;
const STOP_COMMIT_TIMEOUT_MS = 2000;

export const HEADER_DLQ_REASON = 'recon-dlq-reason';
export const HEADER_DLQ_SOURCE = 'recon-dlq-source';
export const HEADER_DLQ_GROUP = 'recon-dlq-group';

export interface KafkaEventBusOptions {
  /** The database holding consumer_offsets, where each group records what it has handled (dedupe). */
  pool: Pool;
  topic?: string;
  dlqTopic?: string;
  /** Prefixed to every consumer group id: deployments sharing a broker (and tests) keep their groups apart. */
  groupPrefix?: string;
  /** Partitions of the events topic if the bus has to create it. */
  partitions?: number;
  /** Partitions one consumer instance works on at once (different runs in parallel); 1 by default. */
  partitionsConsumedConcurrently?: number;
  /** Called when a handler fails; that consumer stops (its offset stays before the failed event). */
  onError?: (error: HandlerFailedError) => void;
  /**
   * Called when a consumer crashes and kafkajs gives up on it (a non-retriable error; kafkajs restarts a
   * consumer after retriable ones, such as a broker restart): that consumer no longer consumes.
   */
  onConsumerCrash?: (group: string, error: Error) => void;
  /** Called when a consumer crashes on a retriable error and kafkajs restarts it (a broker restart...). */
  onConsumerRestart?: (group: string, error: Error) => void;
  /** Called for each message sent to the dead-letter topic. */
  onDeadLetter?: (error: PoisonMessageError) => void;
  /**
   * Handled events between two writes of the group's handled position (always written at the end of a
   * batch, before a rebalance and on a handler failure). Only a crash inside that window makes a new
   * member handle those events again; 1 writes after every event.
   */
  markHandledEvery?: number;
  /**
   * Least time between two Kafka offset commits of a consumer (committed at once on a rebalance, a handler
   * failure, a dead letter and stop()). kafkajs's auto-commit costs a broker round trip after every batch,
   * in line with delivery; committing less often only means more redeliveries after a crash, which the
   * handled positions skip. 0 commits after every batch.
   */
  commitIntervalMs?: number;
  /** Passed to every kafkajs consumer (session timeout, heartbeats...). */
  consumer?: Omit<ConsumerConfig, 'groupId'>;
  /** Timeout and caching of checkReady() (readiness probes). */
  readiness?: KafkaReadinessOptions;
}

interface Subscription {
  consumer: KafkaConsumer;
  failed: boolean;
  stopped: Promise<void> | null;
  handled: GenerationPositions;
  /** The events topic's partitions this member was assigned at its last group join. */
  assigned: ReadonlySet<number>;
  /** Commits what the last batches resolved once no batch came for a commit interval (see handleBatch). */
  trailingCommit: NodeJS.Timeout | null;
}

/**
 * The distributed deployment's bus. Events reach the topic through the EventLogRelay (in log order, keyed
 * by run); each subscribe() is one member of a Kafka consumer group, so the instances of a group share the
 * partitions and a run's events stay in order. Delivery is at least once; a group records per partition
 * the highest global position it has handled, so relay duplicates and redeliveries after a rebalance or
 * crash are skipped. Messages that fail decoding or validation go to the dead-letter topic and the
 * partition moves on.
 */
export class KafkaEventBus implements EventBus {
  private readonly subscriptions = new Set<Subscription>();
  private readonly positions: HandledPositions;
  private readonly topic: string;
  private readonly dlqTopic: string;
  private topicsReady: Promise<{ partitions: number }> | null = null;
  private dlqProducer: Promise<Producer> | null = null;
  private readonly readiness: KafkaReadiness;

  constructor(
    private readonly kafka: Kafka,
    private readonly options: KafkaEventBusOptions,
  ) {
    this.positions = new HandledPositions(options.pool);
    this.topic = options.topic ?? EVENTS_TOPIC;
    this.dlqTopic = options.dlqTopic ?? DEAD_LETTER_TOPIC;
    this.readiness = new KafkaReadiness(kafka, options.readiness);
  }

  /** Ready when the brokers answer a cluster description (fails fast, cached briefly). */
  checkReady(): Promise<BusReadiness> {
    return this.readiness.check();
  }

  private ensureTopics(): Promise<{ partitions: number }> {
    this.topicsReady ??= ensureKafkaTopics(this.kafka, {
      topic: this.topic,
      dlqTopic: this.dlqTopic,
      partitions: this.options.partitions,
    }).catch((error: unknown) => {
      this.topicsReady = null;
      throw error;
    });
    return this.topicsReady;
  }

  async subscribe<T extends EventType = EventType>(
    options: SubscribeOptions<T>,
    handler: EventHandler<T>,
  ): Promise<Consumer> {
    const { partitions } = await this.ensureTopics();
    const groupId = `${this.options.groupPrefix ?? ''}${options.group}`;
    if (options.startAt === 'latest') await this.startNewGroupAtEnd(groupId);
    const consumer = this.kafka.consumer({ ...this.options.consumer, groupId });
    const subscription: Subscription = {
      consumer,
      failed: false,
      stopped: null,
      handled: new GenerationPositions(),
      assigned: new Set(),
      trailingCommit: null,
    };
    let hasJoined = false;
    const joined = new Promise<void>((resolve, reject) => {
      consumer.on(consumer.events.GROUP_JOIN, (event) => {
        subscription.handled.newGeneration();
        subscription.assigned = new Set(event.payload.memberAssignment[this.topic] ?? []);
        hasJoined = true;
        resolve();
      });
      consumer.on(consumer.events.CRASH, (event) => {
        if (event.payload.restart) {
          this.options.onConsumerRestart?.(groupId, event.payload.error);
          return;
        }
        if (hasJoined && !subscription.stopped) this.options.onConsumerCrash?.(groupId, event.payload.error);
        reject(event.payload.error);
      });
    });
    await consumer.connect();
    try {
      await consumer.subscribe({ topics: [this.topic], fromBeginning: true });
      await consumer.run({
        // Offsets are committed by handleBatch (see commitIntervalMs).
        autoCommit: false,
        autoCommitInterval: this.options.commitIntervalMs ?? DEFAULT_COMMIT_INTERVAL_MS,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: this.options.partitionsConsumedConcurrently ?? 1,
        eachBatch: (payload) => this.handleBatch(options, handler, subscription, payload),
      });
      await joined;
    } catch (error) {
      await consumer.disconnect().catch(() => undefined);
      throw error;
    }
    this.subscriptions.add(subscription);
    return {
      group: options.group,
      stop: () => this.stopSubscription(subscription),
      delivers: (event) =>
        subscription.assigned.has(partitionOfKey(this.topic, messageKeyOf(event), partitions)),
    };
  }

  /**
   * A group that has never committed an offset starts at the current end of every partition, committed
   * before its first member joins, so it sees exactly the events published after subscribe() returned
   * (leaving it to auto.offset.reset would re-resolve "latest" for partitions nobody committed yet, and
   * skip what was published meanwhile).
   */
  private async startNewGroupAtEnd(group: string): Promise<void> {
    const admin = this.kafka.admin();
    await admin.connect();
    let ends: Array<{ partition: number; high: string }> | null;
    try {
      // A leadership move (broker restart, a topic just created elsewhere) answers "not the leader" for a
      // moment; kafkajs marks such errors retriable, anything else is final.
      ends = await pRetry(
        async () => {
          try {
            const [committed] = await admin.fetchOffsets({ groupId: group, topics: [this.topic] });
            if (committed.partitions.some((p) => Number(p.offset) >= 0)) return null;
            return await admin.fetchTopicOffsets(this.topic);
          } catch (error) {
            if ((error as { retriable?: boolean }).retriable === true) throw error;
            throw new pRetry.AbortError(error as Error);
          }
        },
        { retries: 10, minTimeout: 100, maxTimeout: 2000 },
      );
    } finally {
      await admin.disconnect();
    }
    if (ends === null) return;
    await commitOffsetsOutsideGroup(this.kafka, group, this.topic, ends);
  }

  private async handleBatch<T extends EventType>(
    options: SubscribeOptions<T>,
    handler: EventHandler<T>,
    subscription: Subscription,
    { batch, resolveOffset, heartbeat, isRunning, isStale, commitOffsetsIfNecessary }: EachBatchPayload,
  ): Promise<void> {
    const { topic, partition } = batch;
    const key = HandledPositions.partitionKey(options.group, topic, partition);
    const wanted = (type: string) => !options.types || (options.types as readonly string[]).includes(type);
    const markEvery = this.options.markHandledEvery ?? DEFAULT_MARK_HANDLED_EVERY;
    const generation = subscription.handled.current();
    let handled = subscription.handled.get(partition) ?? (await this.positions.get(key));
    subscription.handled.set(partition, handled, generation);
    let marked = handled;
    let unmarked = 0;
    const mark = async () => {
      if (handled > marked) await this.positions.advance(key, handled);
      marked = handled;
      subscription.handled.set(partition, handled, generation);
      unmarked = 0;
    };
    let resolved: string | null = null;
    const resolve = (offset: string) => {
      resolveOffset(offset);
      resolved = offset;
      subscription.handled.resolved(partition, offset, generation);
    };
    // This partition's resolved offset, now; kafkajs's own commits (on its interval) cover all partitions.
    const commitResolved = async () => {
      if (resolved === null) return;
      const offset = (BigInt(resolved) + 1n).toString();
      await commitOffsetsIfNecessary({ topics: [{ topic, partitions: [{ partition, offset }] }] });
    };
    let deadLettered = false;
    for (const message of batch.messages) {
      if (!isRunning() || isStale() || subscription.failed) break;
      const where = `kafka ${topic}[${partition}]@${message.offset}`;
      const headerType = headerText(message.headers, HEADER_TYPE);
      if (headerType === undefined || wanted(headerType)) {
        let event: RecordedEvent;
        try {
          event = decodeEvent(message, where);
        } catch (error) {
          if (!(error instanceof PoisonMessageError)) throw error;
          await this.deadLetter(options.group, topic, partition, message, error);
          resolve(message.offset);
          deadLettered = true;
          continue;
        }
        if (isSubscribedType(options.types, event) && event.globalPosition > handled) {
          try {
            await handler(event);
          } catch (cause) {
            await mark();
            await commitResolved().catch(() => undefined);
            this.fail(subscription, new HandlerFailedError(options.group, event, cause));
            return;
          }
          handled = event.globalPosition;
          unmarked += 1;
          if (unmarked >= markEvery) await mark();
        }
      }
      resolve(message.offset);
      try {
        await heartbeat();
      } catch (error) {
        // A rebalance: record what was handled before the partition may move to another member.
        await mark();
        await commitResolved().catch(() => undefined);
        throw error;
      }
    }
    await mark();
    // A dead letter is committed at once, so that a restart does not send it again.
    if (deadLettered || !isRunning()) await commitResolved();
    else await commitOffsetsIfNecessary();
    this.scheduleTrailingCommit(subscription);
  }

  /**
   * commitOffsetsIfNecessary commits only when a batch comes after the interval: the last batches before a
   * quiet spell would stay uncommitted, and Kafka would report that lag until the next event. This commits
   * them one interval after the last batch.
   */
  private scheduleTrailingCommit(subscription: Subscription): void {
    if (subscription.trailingCommit) clearTimeout(subscription.trailingCommit);
    const interval = this.options.commitIntervalMs ?? DEFAULT_COMMIT_INTERVAL_MS;
    subscription.trailingCommit = setTimeout(() => {
      subscription.trailingCommit = null;
      if (!subscription.stopped) void this.commitResolved(subscription);
    }, interval);
    subscription.trailingCommit.unref();
  }

  private async deadLetter(
    group: string,
    topic: string,
    partition: number,
    message: KafkaMessage,
    error: PoisonMessageError,
  ): Promise<void> {
    this.dlqProducer ??= (async () => {
      const producer = this.kafka.producer({
        idempotent: true,
        maxInFlightRequests: 1,
        createPartitioner: Partitioners.DefaultPartitioner,
      });
      await producer.connect();
      return producer;
    })();
    const producer = await this.dlqProducer;
    await producer.send({
      topic: this.dlqTopic,
      acks: -1,
      messages: [
        {
          key: message.key,
          value: message.value,
          headers: {
            ...message.headers,
            [HEADER_DLQ_REASON]: error.reason,
            [HEADER_DLQ_SOURCE]: `${topic}[${partition}]@${message.offset}`,
            [HEADER_DLQ_GROUP]: group,
          },
        },
      ],
    });
    this.options.onDeadLetter?.(error);
  }

  /** Like the in-process bus: report the failure and stop this consumer, its offset before the failed event. */
  private fail(subscription: Subscription, error: HandlerFailedError): void {
    subscription.failed = true;
    this.options.onError?.(error);
    // Not awaited here: disconnecting waits for the batch in progress, which is this call's caller.
    setImmediate(() => void this.stopSubscription(subscription));
  }

  private stopSubscription(subscription: Subscription): Promise<void> {
    if (subscription.trailingCommit) clearTimeout(subscription.trailingCommit);
    subscription.trailingCommit = null;
    subscription.stopped ??= this.commitResolved(subscription)
      .then(() => subscription.consumer.disconnect())
      .finally(() => {
        this.subscriptions.delete(subscription);
      });
    return subscription.stopped;
  }

  /** What this member resolved in its current generation and has not committed yet (see commitIntervalMs). */
  private async commitResolved(subscription: Subscription): Promise<void> {
    const offsets = subscription.handled.uncommitted();
    if (offsets.length === 0) return;
    const commit = subscription.consumer
      .commitOffsets(offsets.map(({ partition, next }) => ({ topic: this.topic, partition, offset: next })))
      .catch(() => undefined);
    // Best effort: with the broker away a stop must not wait for kafkajs's retries (redeliveries are skipped).
    let timer: NodeJS.Timeout | undefined;
    const bound = new Promise<void>((resolve) => (timer = setTimeout(resolve, STOP_COMMIT_TIMEOUT_MS)));
    await Promise.race([commit, bound]).finally(() => clearTimeout(timer));
  }

  async close(): Promise<void> {
    await this.readiness.close();
    await Promise.all([...this.subscriptions].map((s) => this.stopSubscription(s)));
    if (this.dlqProducer) {
      const producer = await this.dlqProducer.catch(() => null);
      this.dlqProducer = null;
      await producer?.disconnect();
    }
  }
}

/**
 * Commits offsets for a group with no running member, like kafkajs's admin.setOffsets (a paused member
 * seeks and commits on stop), but without its 5-second fetch wait.
 */
async function commitOffsetsOutsideGroup(
  kafka: Kafka,
  groupId: string,
  topic: string,
  offsets: Array<{ partition: number; high: string }>,
): Promise<void> {
  const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 50, heartbeatInterval: 500 });
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      consumer.on(consumer.events.FETCH, () => resolve());
      consumer.on(consumer.events.CRASH, (event) => reject(event.payload.error));
      consumer.run({ eachBatchAutoResolve: false, eachBatch: async () => undefined }).catch(reject);
      consumer.pause([{ topic }]);
      for (const { partition, high } of offsets) consumer.seek({ topic, partition, offset: high });
    });
  } finally {
    await consumer.disconnect();
  }
}
