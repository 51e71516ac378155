import type { Pool, PoolClient } from 'pg';
import type { EventStore, RecordedEvent } from './event-store';
import { EVENTS_CHANNEL } from './postgres-event-store';

export interface SubscriptionOptions {
  /** Deliver events with a global position greater than this. */
  after: number;
  batchSize?: number;
  /** Poll interval when no notification arrives (notifications are an optimisation, polling the guarantee). */
  pollMs?: number;
  signal?: AbortSignal;
}

/**
 * Delivers every committed event, in commit order, from a global position on. Positions are gap-free in
 * commit order (see PostgresEventStore), so reading "after the last delivered position" never skips an
 * event of a transaction that was still in flight. Resolves when the signal aborts.
 */
export async function subscribeAll(
  store: EventStore,
  pool: Pool,
  handler: (events: RecordedEvent[]) => Promise<void>,
  options: SubscriptionOptions,
): Promise<number> {
  const batchSize = options.batchSize ?? 1000;
  const pollMs = options.pollMs ?? 500;
  let position = options.after;
  let wake: (() => void) | null = null;
  let listener: PoolClient | null = null;
  const onNotify = () => wake?.();
  // A lost LISTEN connection only costs notifications; polling still delivers, and the next query reports it.
  const onListenerError = () => wake?.();
  try {
    listener = await pool.connect();
    listener.on('notification', onNotify);
    listener.on('error', onListenerError);
    await listener.query(`LISTEN ${EVENTS_CHANNEL}`);
  } catch {
    listener?.release();
    listener = null;
  }
  const onAbort = () => wake?.();
  options.signal?.addEventListener('abort', onAbort);
  try {
    while (!options.signal?.aborted) {
      const events = await store.readAll(position, batchSize);
      if (events.length > 0) {
        await handler(events);
        position = events[events.length - 1].globalPosition;
        continue;
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
    if (listener) {
      listener.off('notification', onNotify);
      const broken = await listener.query(`UNLISTEN ${EVENTS_CHANNEL}`).then(
        () => false,
        () => true,
      );
      listener.off('error', onListenerError);
      listener.release(broken);
    }
  }
}
