import type { Notification, Pool, PoolClient } from 'pg';
import { EVENTS_CHANNEL } from './postgres-event-store';

/** Called with the last global position a commit announces; undefined when notifications may have been lost. */
export type LogNotify = (announced?: number) => void;

/**
 * One LISTEN connection on the log's commit notifications, shared by every subscriber listening through it
 * (each subscription holding its own would take a pooled connection apiece). The connection is held while
 * someone listens. A lost connection only costs notifications: subscribers are woken and fall back to
 * polling, as they do when LISTEN cannot be set up.
 */
export class LogListener {
  private client: PoolClient | null = null;
  private opening: Promise<void> | null = null;
  private readonly subscribers = new Set<LogNotify>();

  constructor(private readonly pool: Pool) {}

  /** Resolves once notifications flow (or could not be set up), with the function that stops them. */
  async listen(notify: LogNotify): Promise<() => Promise<void>> {
    this.subscribers.add(notify);
    await this.open();
    return async () => {
      this.subscribers.delete(notify);
      if (this.subscribers.size === 0) await this.release();
    };
  }

  private readonly onNotification = (message: Notification) => {
    const announced = Number(message.payload);
    for (const notify of this.subscribers) notify(Number.isSafeInteger(announced) ? announced : undefined);
  };

  private readonly onError = () => {
    for (const notify of this.subscribers) notify(undefined);
  };

  private open(): Promise<void> {
    if (this.client) return Promise.resolve();
    this.opening ??= (async () => {
      let client: PoolClient | null = null;
      try {
        client = await this.pool.connect();
        client.on('notification', this.onNotification);
        client.on('error', this.onError);
        await client.query(`LISTEN ${EVENTS_CHANNEL}`);
        this.client = client;
      } catch {
        client?.off('notification', this.onNotification);
        client?.off('error', this.onError);
        client?.release();
      } finally {
        this.opening = null;
      }
      if (this.subscribers.size === 0) await this.release();
    })();
    return this.opening;
  }

  private async release(): Promise<void> {
    const client = this.client;
    if (!client) return;
    this.client = null;
    client.off('notification', this.onNotification);
    const broken = await client.query(`UNLISTEN ${EVENTS_CHANNEL}`).then(
      () => false,
      () => true,
    );
    client.off('error', this.onError);
    client.release(broken);
  }
}
