import type { EventType } from '@recon/contracts';
import type { RecordedEvent } from '@recon/eventlog';

export interface SubscribeOptions<T extends EventType = EventType> {
  /** Consumer group: every group sees every matching event once; instances of one group share the work. */
  group: string;
  /**
   * Only these event types (all when absent). The handler is typed by them: with
   * `types: ['policy.ready', 'run.completed']`, `switch (event.type)` narrows the payload to those two.
   */
  types?: readonly T[] | readonly string[];
  /**
   * Where a group with no stored offset begins: 'earliest' (the whole log, the default) or 'latest' (only
   * events committed after it subscribed), like Kafka's auto.offset.reset.
   */
  startAt?: 'earliest' | 'latest';
}

export type EventHandler<T extends EventType = EventType> = (event: RecordedEvent<T>) => Promise<void>;

/** Whether a subscription to `types` (every type when absent) takes the event; narrows it to those types. */
export function isSubscribedType<T extends EventType>(
  types: readonly T[] | readonly string[] | undefined,
  event: RecordedEvent | RecordedEvent<T>,
): event is RecordedEvent<T> {
  return !types || (types as readonly string[]).includes(event.type);
}

export interface Consumer {
  readonly group: string;
  stop(): Promise<void>;
  /**
   * Whether this member is delivered the event under its current assignment: in-process, every event; a
   * Kafka member, the events of the partitions it holds (by the key the relay publishes them under). A
   * rebalance can move a partition at any moment, so the answer is advice for batching work, never a
   * guarantee: work done for an event delivered elsewhere must be idempotent like any redelivery.
   */
  delivers(event: Pick<RecordedEvent, 'streamId' | 'type' | 'payload' | 'tombstonedBy'>): boolean;
}

/**
 * How services receive each other's events. A service never calls another: it appends to the event log
 * (the source of truth) and reacts to committed events delivered here. Delivery is at least once, in
 * commit order per run; handlers must be idempotent (appending with deterministic event ids makes them so).
 * Implementations: the in-process bus (embedded deployment) and the Kafka bus (distributed deployment).
 */
export interface EventBus {
  subscribe<T extends EventType = EventType>(
    options: SubscribeOptions<T>,
    handler: EventHandler<T>,
  ): Promise<Consumer>;
  /**
   * Whether the bus's own dependency (Kafka's brokers) answers, for readiness probes; cheap to call often.
   * Absent when the bus needs nothing beyond the database (the in-process bus).
   */
  checkReady?(): Promise<BusReadiness>;
  close(): Promise<void>;
}

/** The answer of EventBus.checkReady: the dependency it checked, and what is wrong when it is not ready. */
export type BusReadiness =
  { dependency: string; ready: true } | { dependency: string; ready: false; error: string };

export class HandlerFailedError extends Error {
  constructor(
    readonly group: string,
    readonly event: RecordedEvent,
    readonly reason: unknown,
  ) {
    super(
      `consumer group '${group}' failed on event ${event.type} (run ${event.streamId}, position ${event.position}): ${
        (reason as Error)?.message ?? String(reason)
      }`,
    );
    this.name = 'HandlerFailedError';
  }
}
