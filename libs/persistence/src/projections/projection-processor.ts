import { Client } from 'pg';
import { EVENTS_CHANNEL } from '@recon/eventlog';
import type { ProjectionRunner } from './projection-runner';

/**
 * Held (session-level) by the one process that keeps the read models current; other replicas wait for it.
 * Distinct from the lock each projection batch takes (PROJECTION_LOCK), which only serialises batches.
 */
export const PROJECTION_PROCESSOR_LOCK = 7_224_032;

export interface ProjectionProcessorOptions {
  /** Longest wait between two catch-ups without a log notification; also how often a stand-by tries the lock. */
  pollMs?: number;
  /** A failed catch-up or a lost lock connection (the processor retries after pollMs). */
  onError?: (error: Error) => void;
}

/**
 * Keeps the read models current continuously: the replica holding PROJECTION_PROCESSOR_LOCK projects every
 * committed event as it is announced, so projection lag returns to 0 without any read. Stand-by replicas
 * try the lock every pollMs and take over when its holder's connection ends (PostgreSQL releases a session
 * lock with its session). The lock and the LISTEN share one connection of its own, outside the pool.
 */
export class ProjectionProcessor {
  private client: Client | null = null;
  private leading = false;
  private stopped = false;
  private wake: (() => void) | null = null;
  /** An append was announced since the last catch-up began (so the next sleep is skipped). */
  private announced = false;
  private loop: Promise<void> | null = null;

  constructor(
    private readonly runner: ProjectionRunner,
    private readonly databaseUrl: string,
    private readonly options: ProjectionProcessorOptions = {},
  ) {}

  /** Whether this process holds the processor lock (it is the one projecting). */
  get isLeader(): boolean {
    return this.leading;
  }

  start(): void {
    this.loop ??= this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.loop;
    await this.disconnect();
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      try {
        await this.connect();
        if (!this.leading) this.leading = await this.tryLock();
        this.announced = false;
        if (this.leading) await this.runner.catchUp();
      } catch (error) {
        this.options.onError?.(error as Error);
        await this.disconnect();
      }
      if (!this.stopped) await this.sleep();
    }
  }

  private async connect(): Promise<void> {
    if (this.client) return;
    const client = new Client({ connectionString: this.databaseUrl });
    // Only the leader acts on appends; a stand-by just retries the lock every pollMs.
    client.on('notification', () => {
      if (!this.leading) return;
      this.announced = true;
      this.wake?.();
    });
    // A lost connection also lost the lock: start over (a stand-by may have taken it meanwhile).
    client.on('error', () => {
      if (this.client === client) void this.disconnect();
      this.wake?.();
    });
    await client.connect();
    await client.query(`LISTEN ${EVENTS_CHANNEL}`);
    this.client = client;
  }

  private async tryLock(): Promise<boolean> {
    const result = await this.client!.query<{ locked: boolean }>(
      'SELECT pg_try_advisory_lock($1) AS locked',
      [PROJECTION_PROCESSOR_LOCK],
    );
    return result.rows[0].locked;
  }

  private async disconnect(): Promise<void> {
    const client = this.client;
    this.client = null;
    this.leading = false;
    await client?.end().catch(() => undefined);
  }

  private sleep(): Promise<void> {
    if (this.announced) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, this.options.pollMs ?? 1000);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = () => {
        this.wake = null;
        done();
      };
    });
  }
}
