import type { Pool, PoolClient } from 'pg';
import type { EventType } from '@recon/contracts';
import { EVENT_COLUMNS, rowToEvent, type StoredRow } from './rows';
import type {
  AppendOptions,
  EventStore,
  NewEvent,
  ReadAllFilter,
  ReadStreamOptions,
  RecordedEvent,
} from './event-store';
import { BatchTooLargeError, ContentDeletionError, IdempotencyConflictError, WrongExpectedVersionError } from './errors';
import { chainEvents, prepareEvents, type PreparedEvent, type SealedEvent } from './seal';
import { isConnectionLoss, retryOnConnectionLoss } from './connection-loss';

export const EVENTS_CHANNEL = 'recon_events';

const ignoreSessionError = () => undefined;

/** Whether an append attempt has sent COMMIT (after which its outcome is unknown if the session is lost). */
interface AppendProgress {
  committing: boolean;
}

/** The most events one append may carry (a larger batch holds the global append lock too long). */
export const MAX_EVENTS_PER_APPEND = 10_000;

export interface PostgresEventStoreHooks {
  /** Runs inside the append transaction just before COMMIT (tests use it to hold a transaction in flight). */
  beforeCommit?: (streamId: string) => Promise<void>;
}

/**
 * The event log on PostgreSQL. Every append first takes the row lock on the single-row `recon_log_head`
 * and advances it by the batch size, so global positions are assigned gap-free in commit order: a reader
 * that has seen position N can never later find a smaller one committed (a plain sequence would allow it).
 */
export class PostgresEventStore implements EventStore {
  /** The head each stream had after this store's last append to it (appends check it under the lock). */
  private readonly heads = new StreamHeadCache(10_000);

  constructor(
    private readonly pool: Pool,
    private readonly hooks: PostgresEventStoreHooks = {},
  ) {}

  async append(streamId: string, events: NewEvent[], options: AppendOptions): Promise<RecordedEvent[]> {
    return this.appendWith(streamId, events, options);
  }

  /**
   * An append that lost its session (PostgreSQL restarting, a failover) is retried whole while the server
   * is unreachable (RECON_PG_RETRY_SECONDS), when that cannot record anything twice: the transaction had
   * not sent COMMIT (the server rolls it back), or every event carries its id (a retry of a batch that did
   * commit finds it recorded and returns it). An append of new-id events whose COMMIT went unanswered is
   * not retried: it may have committed, and only the caller can tell.
   */
  private appendWith(
    streamId: string,
    events: NewEvent[],
    options: AppendOptions,
    alsoInTransaction?: (client: PoolClient, recorded: RecordedEvent[]) => Promise<void>,
  ): Promise<RecordedEvent[]> {
    const idempotent = events.every((event) => event.eventId !== undefined);
    let progress: AppendProgress = { committing: false };
    return retryOnConnectionLoss(
      `append to stream '${streamId}'`,
      () => {
        progress = { committing: false };
        return this.appendOnce(streamId, events, options, progress, alsoInTransaction);
      },
      { retryable: (error) => isConnectionLoss(error) && (idempotent || !progress.committing) },
    );
  }

  /**
   * Withdraws the content of events of a stream: appends a `run.content.deleted` event naming them and, in
   * the same transaction, replaces their payload text by a tombstone pointing at it (`recon_withdraw_content`,
   * the only path the append-only guard allows). Their hashes and chain links stay, so the audit still
   * verifies the chain and reports them as tombstoned.
   */
  async deleteContent(
    streamId: string,
    request: { eventIds: string[]; blobHashes: string[]; reason: string; actor: string },
    producer: AppendOptions['producer'],
  ): Promise<RecordedEvent> {
    const [deletion] = await this.appendWith(
      streamId,
      [{ type: 'run.content.deleted', payload: request }],
      { expectedVersion: 'any', producer },
      async (client, [recorded]) => {
        const targets = await client.query<{ event_id: string; type: string; tombstoned_by: string | null }>(
          'SELECT event_id, type, tombstoned_by FROM recon_events WHERE stream_id = $1 AND event_id = ANY($2::uuid[])',
          [streamId, request.eventIds],
        );
        const found = new Map(targets.rows.map((row) => [row.event_id, row]));
        const missing = request.eventIds.filter((id) => !found.has(id));
        if (missing.length > 0) throw new ContentDeletionError(streamId, `no such event(s) in the stream: ${missing.join(', ')}`);
        for (const row of targets.rows) {
          if (row.tombstoned_by) throw new ContentDeletionError(streamId, `event ${row.event_id} is already deleted`);
          if (row.type === 'run.content.deleted') {
            throw new ContentDeletionError(streamId, `event ${row.event_id} records a deletion and cannot itself be deleted`);
          }
        }
        // The one change the append-only guard lets through: a tombstone naming this deletion event.
        await client.query('SELECT recon_withdraw_content($1, $2, $3::uuid[])', [
          streamId,
          recorded.eventId,
          request.eventIds,
        ]);
      },
    );
    return deletion;
  }

  private async appendOnce(
    streamId: string,
    events: NewEvent[],
    options: AppendOptions,
    progress: AppendProgress,
    alsoInTransaction?: (client: PoolClient, recorded: RecordedEvent[]) => Promise<void>,
  ): Promise<RecordedEvent[]> {
    if (events.length === 0) return [];
    if (events.length > MAX_EVENTS_PER_APPEND) throw new BatchTooLargeError(streamId, events.length, MAX_EVENTS_PER_APPEND);
    const prepared = prepareEvents(streamId, events);
    const checkIds = events.some((event) => event.eventId !== undefined);
    // One statement, committed on its own, unless something must happen in the same transaction.
    const transaction = alsoInTransaction !== undefined || this.hooks.beforeCommit !== undefined;
    const client = await this.pool.connect();
    // A session lost between two statements must fail the next one, not crash the process (a checked-out
    // client's 'error' has no listener of the pool's).
    client.on('error', ignoreSessionError);
    let released = false;
    try {
      if (transaction) await client.query('BEGIN');
      let head = this.heads.get(streamId) ?? (await readStreamHead(client, streamId));
      for (let attempt = 1; ; attempt += 1) {
        if (!satisfiesExpected(options.expectedVersion, head.version)) {
          // A cached head may be stale: only the stream's committed head can refuse the append.
          head = await readStreamHead(client, streamId);
          if (checkIds && !satisfiesExpected(options.expectedVersion, head.version)) {
            // A retry of an append that did commit finds its events at the stream's head.
            const existing = await this.findExisting(client, events);
            if (existing) {
              if (transaction) await client.query('ROLLBACK');
              return this.acceptRetry(streamId, prepared, existing);
            }
          }
          checkExpectedVersion(streamId, options.expectedVersion, head.version);
        }
        const sealed = chainEvents(streamId, prepared, options.producer, head.version, head.hash);
        if (!transaction) progress.committing = true;
        const outcome = await callAppend(client, streamId, head, sealed, checkIds, options.producer);
        progress.committing = false;
        if (outcome.outcome === 'recorded') {
          if (transaction) await client.query('ROLLBACK');
          return this.acceptRetry(streamId, prepared, (await this.findExisting(client, events)) ?? []);
        }
        if (outcome.outcome === 'moved') {
          // Another writer appended to the stream since its head was read: chain to the new head.
          if (attempt >= MAX_HEAD_MOVES) throw new Error(`append to stream '${streamId}': its head kept moving (${attempt} tries)`);
          head = { version: outcome.head_version as number, hash: outcome.head_hash };
          continue;
        }
        const firstGlobal = Number(outcome.first_global);
        const recorded = sealed.map((event, index) => sealedToRecorded(event, firstGlobal + index));
        if (alsoInTransaction) await alsoInTransaction(client, recorded);
        if (this.hooks.beforeCommit) await this.hooks.beforeCommit(streamId);
        if (transaction) {
          progress.committing = true;
          await client.query('COMMIT');
        }
        const tail = sealed[sealed.length - 1];
        this.heads.set(streamId, { version: tail.position, hash: tail.hash });
        return recorded;
      }
    } catch (error) {
      this.heads.delete(streamId);
      // A client whose session is gone is discarded, not returned to the pool.
      const lost = isConnectionLoss(error);
      if (!lost && transaction) await client.query('ROLLBACK').catch(() => undefined);
      released = true;
      client.off('error', ignoreSessionError);
      client.release(lost ? (error as Error) : undefined);
      throw error;
    } finally {
      if (!released) {
        client.off('error', ignoreSessionError);
        client.release();
      }
    }
  }

  private async findExisting(client: PoolClient, events: NewEvent[]): Promise<StoredRow[] | null> {
    const ids = events.map((event) => event.eventId).filter((id): id is string => id !== undefined);
    if (ids.length === 0) return null;
    const found = await client.query<StoredRow>(
      `SELECT ${EVENT_COLUMNS} FROM recon_events WHERE event_id = ANY($1::uuid[]) ORDER BY global_position`,
      [ids],
    );
    return found.rows.length === 0 ? null : found.rows;
  }

  /** A retry of an append that already committed: every event must be there, unchanged, in the same stream. */
  private acceptRetry(streamId: string, prepared: PreparedEvent[], existing: StoredRow[]): RecordedEvent[] {
    const byId = new Map(existing.map((row) => [row.event_id, row]));
    const missing = prepared.filter((event) => !byId.has(event.eventId));
    if (missing.length > 0) {
      throw new IdempotencyConflictError(
        streamId,
        existing.map((row) => row.event_id),
        'are already recorded, but the batch also holds new events: a batch is retried whole or not at all',
      );
    }
    return prepared.map((event) => {
      const recorded = rowToEvent(byId.get(event.eventId) as StoredRow);
      if (recorded.streamId !== streamId || recorded.payloadHash !== event.payloadHash || recorded.type !== event.type) {
        throw new IdempotencyConflictError(
          streamId,
          [event.eventId],
          `is already recorded in stream '${recorded.streamId}' at position ${recorded.position} with other content`,
        );
      }
      return recorded;
    });
  }

  async readStream<T extends EventType = EventType>(
    streamId: string,
    options: ReadStreamOptions<T> = {},
  ): Promise<RecordedEvent<T>[]> {
    const result = await this.pool.query<StoredRow>(
      `SELECT ${EVENT_COLUMNS} FROM recon_events
        WHERE stream_id = $1 AND position >= $2 AND position <= $3 AND ($4::text[] IS NULL OR type = ANY($4))
        ORDER BY position LIMIT $5`,
      [streamId, options.fromPosition ?? 1, options.toPosition ?? 2147483647, options.types ?? null, options.limit ?? null],
    );
    return result.rows.map(rowToEvent<T>);
  }

  async streamVersion(streamId: string): Promise<number> {
    const result = await this.pool.query<{ version: number }>(
      'SELECT version FROM recon_streams WHERE stream_id = $1',
      [streamId],
    );
    return result.rows[0]?.version ?? 0;
  }

  async readAll<T extends EventType = EventType>(
    afterGlobalPosition: number,
    limit: number,
    filter: ReadAllFilter<T> = {},
  ): Promise<RecordedEvent<T>[]> {
    const result = await this.pool.query<StoredRow>(
      `SELECT ${EVENT_COLUMNS} FROM recon_events
        WHERE global_position > $1 AND global_position <= $3
          AND ($4::text[] IS NULL OR type = ANY($4)) AND ($5::text IS NULL OR stream_id = $5)
        ORDER BY global_position LIMIT $2`,
      [afterGlobalPosition, limit, filter.upTo ?? Number.MAX_SAFE_INTEGER, filter.types ?? null, filter.streamId ?? null],
    );
    return result.rows.map(rowToEvent<T>);
  }

  async headPosition(): Promise<number> {
    const result = await this.pool.query<{ global_position: string }>(
      'SELECT global_position FROM recon_log_head WHERE id = 1',
    );
    return Number(result.rows[0]?.global_position ?? 0);
  }

  async listStreams(): Promise<Array<{ streamId: string; version: number }>> {
    const result = await this.pool.query<{ stream_id: string; version: number }>(
      'SELECT stream_id, version FROM recon_streams ORDER BY stream_id',
    );
    return result.rows.map((row) => ({ streamId: row.stream_id, version: row.version }));
  }
}

/** Tries of one append whose stream other writers keep moving before it gets the lock. */
const MAX_HEAD_MOVES = 1000;

interface StreamHead {
  version: number;
  hash: string | null;
}

/** Most recently written stream heads, bounded (the oldest entry goes first). */
class StreamHeadCache {
  private readonly entries = new Map<string, StreamHead>();

  constructor(private readonly capacity: number) {}

  get(streamId: string): StreamHead | undefined {
    return this.entries.get(streamId);
  }

  set(streamId: string, head: StreamHead): void {
    this.entries.delete(streamId);
    this.entries.set(streamId, head);
    if (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value as string);
  }

  delete(streamId: string): void {
    this.entries.delete(streamId);
  }
}

async function readStreamHead(client: Pick<PoolClient, 'query'>, streamId: string): Promise<StreamHead> {
  const result = await client.query<{ version: number; last_hash: string }>(
    'SELECT version, last_hash FROM recon_streams WHERE stream_id = $1',
    [streamId],
  );
  return { version: result.rows[0]?.version ?? 0, hash: result.rows[0]?.last_hash ?? null };
}

interface AppendOutcome {
  outcome: 'appended' | 'recorded' | 'moved';
  first_global: string | null;
  head_version: number | null;
  head_hash: string | null;
}

/**
 * One call of `recon_append` (migration AppendOnlyLog): under the global append lock it inserts the events
 * if the stream is still at `head`, with the stream head and the notification, in one round trip.
 */
async function callAppend(
  client: Pick<PoolClient, 'query'>,
  streamId: string,
  head: StreamHead,
  sealed: SealedEvent[],
  checkIds: boolean,
  producer: AppendOptions['producer'],
): Promise<AppendOutcome> {
  const column = <K extends keyof SealedEvent>(key: K) => sealed.map((event) => event[key]);
  const result = await client.query<AppendOutcome>({
    name: 'recon_append',
    text: `SELECT * FROM recon_append($1, $2, $3, $4, $5, $6::uuid[], $7::text[], $8::int[], $9::text[], $10::text[],
      $11::text[], $12::json[], $13::json[], $14::text[], $15::text[], $16::text[], $17::text[])`,
    values: [
      streamId,
      head.version,
      head.hash,
      checkIds,
      JSON.stringify(producer),
      column('eventId'),
      column('type'),
      column('schemaVersion'),
      column('occurredAt'),
      column('causationId'),
      column('correlationId'),
      column('payloadJson'),
      column('metaJson'),
      column('payloadHash'),
      column('metaHash'),
      column('prevHash'),
      column('hash'),
    ],
  });
  return result.rows[0];
}

function satisfiesExpected(expected: AppendOptions['expectedVersion'], actual: number): boolean {
  return expected === 'any' || (expected === 'no-stream' ? actual === 0 : expected === actual);
}

function checkExpectedVersion(streamId: string, expected: AppendOptions['expectedVersion'], actual: number): void {
  if (expected === 'any') return;
  if (expected === 'no-stream') {
    if (actual !== 0) throw new WrongExpectedVersionError(streamId, 'no-stream', actual);
    return;
  }
  if (expected !== actual) throw new WrongExpectedVersionError(streamId, expected, actual);
}

/**
 * Inserts sealed events as rows of `table` (recon_events, or a table of the same columns) in one statement.
 * Exported so the benchmark's raw baseline inserts exactly the same rows the same way.
 */
export async function insertSealedRows(
  client: Pick<PoolClient, 'query'>,
  table: string,
  sealed: SealedEvent[],
  firstGlobal: number,
): Promise<void> {
  const column = <K extends keyof SealedEvent>(key: K) => sealed.map((event) => event[key]);
  await client.query(
    `INSERT INTO ${table} (global_position, event_id, stream_id, position, type, schema_version, occurred_at,
       producer, causation_id, correlation_id, payload, meta, payload_hash, meta_hash, prev_hash, hash)
     SELECT * FROM unnest($1::bigint[], $2::uuid[], $3::text[], $4::int[], $5::text[], $6::int[], $7::text[],
       $8::json[], $9::text[], $10::text[], $11::json[], $12::json[], $13::text[], $14::text[], $15::text[], $16::text[])`,
    [
      sealed.map((_, index) => firstGlobal + index),
      column('eventId'),
      column('streamId'),
      column('position'),
      column('type'),
      column('schemaVersion'),
      column('occurredAt'),
      sealed.map((event) => JSON.stringify(event.producer)),
      column('causationId'),
      column('correlationId'),
      column('payloadJson'),
      column('metaJson'),
      column('payloadHash'),
      column('metaHash'),
      column('prevHash'),
      column('hash'),
    ],
  );
}

function sealedToRecorded(event: SealedEvent, globalPosition: number): RecordedEvent {
  return {
    globalPosition,
    eventId: event.eventId,
    streamId: event.streamId,
    position: event.position,
    type: event.type,
    schemaVersion: event.schemaVersion,
    occurredAt: event.occurredAt,
    producer: event.producer,
    causationId: event.causationId,
    correlationId: event.correlationId,
    payload: event.payload,
    meta: event.meta,
    payloadHash: event.payloadHash,
    metaHash: event.metaHash,
    prevHash: event.prevHash,
    hash: event.hash,
  } as RecordedEvent;
}
