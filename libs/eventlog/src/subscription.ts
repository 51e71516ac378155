import type { Pool } from 'pg';
import type { EventType } from '@recon/contracts';
import type { EventStore, RecordedEvent } from './event-store';
import { LogListener } from './log-listener';

export interface SubscriptionOptions<T extends EventType = EventType> {
  /** Deliver events with a global position greater than this. */
  after: number;
  batchSize?: number;
  /** Poll interval when no notification arrives (notifications are an optimisation, polling the guarantee). */
  pollMs?: number;
  signal?: AbortSignal;
  /**
   * Only events of these types. The filter runs in the query, so a wake-up for other events costs an empty
   * read rather than fetching and decoding them; the position still moves past them, and the handler is
   * called, with no events, when it moved past none but those.
   */
  types?: readonly T[] | readonly string[];
  /** Commit notifications shared with other subscriptions; by default the subscription listens on its own. */
  listener?: LogListener;
}

/**
 * Delivers every committed event, in commit order, from a global position on. Positions are gap-free in
 * commit order (see PostgresEventStore), so reading "after the last delivered position" never skips an
 * event of a transaction that was still in flight. The handler gets each batch and the position the
 * subscription has reached with it. Resolves when the signal aborts.
 */
export async function subscribeAll<T extends EventType = EventType>(
  store: EventStore,
  pool: Pool,
  handler: (events: RecordedEvent<T>[], reached: number) => Promise<void>,
  options: SubscriptionOptions<T>,
): Promise<number> {
  const batchSize = options.batchSize ?? 1000;
  const pollMs = options.pollMs ?? 500;
  let position = options.after;
  let wake: (() => void) | null = null;
  // The highest global position a notification announced: appends notify on commit, and commit in position
  // order (see PostgresEventStore), so every event up to it is committed.
  let notified = 0;
  // Notifications are an optimisation: without them (none set up, a lost connection) polling still delivers.
  const stopListening = await (options.listener ?? new LogListener(pool)).listen((announced) => {
    if (announced !== undefined && announced > notified) notified = announced;
    wake?.();
  });
  const onAbort = () => wake?.();
  options.signal?.addEventListener('abort', onAbort);
  try {
    while (!options.signal?.aborted) {
      if (options.types) {
        // Filtered: read up to a position known committed, then move there past the events left out.
        const upTo = notified > position ? notified : await store.headPosition();
        if (upTo > position) {
          const events = await store.readAll(position, batchSize, { types: options.types, upTo });
          const full = events.length === batchSize;
          const reached = full ? events[events.length - 1].globalPosition : upTo;
          await handler(events, reached);
          position = reached;
          if (full || notified > position) continue;
        }
      } else {
        // Unfiltered, T is every type (nothing narrows it when `types` is absent).
        const events = (await store.readAll(position, batchSize)) as RecordedEvent<T>[];
        if (events.length > 0) {
          position = events[events.length - 1].globalPosition;
          await handler(events, position);
          continue;
        }
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, pollMs);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      wake = null;
    }
    return position;
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
    await stopListening();
  }
}
