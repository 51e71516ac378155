import type { Pool, PoolClient } from 'pg';
import { ChainVerifier, type AuditCheck, type AuditResult, type BrokenLink } from './audit';
import {
  CheckpointError,
  appendCheckpoint,
  checkpointDigest,
  CHECKPOINT_FORMAT,
  foldLogHash,
  readLogCheckpoints,
  signCheckpoint,
  type LogCheckpoint,
  type SignedLog,
} from './log-checkpoint';
import { eventLeaf, MerkleFrontier } from './merkle';
import { EVENT_COLUMNS, type StoredRow } from './rows';
import type { LogSigningKey } from './signing-key';

/** A broken link of the whole log: in a stream (streamId set) or of the global sequence (streamId null). */
export interface LogBrokenLink extends Omit<BrokenLink, 'check'> {
  check: AuditCheck | 'global-position' | 'signed-log-head';
  streamId: string | null;
  /** The global position where it was found, when there is one. */
  globalPosition: number | null;
}

export interface LogAuditResult {
  ok: boolean;
  eventsChecked: number;
  streams: number;
  /** The last global position verified and the running log hash there. */
  position: number;
  logHash: string | null;
  /** The latest checkpoint whose log head the log was found to match. */
  signedThrough: (Pick<LogCheckpoint, 'sequence' | 'signedAt'> & { position: number }) | null;
  firstBroken: LogBrokenLink | null;
  /** The RFC 9162 Merkle root and frontier at `position`, when the verifier kept the tree. */
  merkle: { root: string; frontier: string[] } | null;
}

interface LogVerifierOptions {
  /** Verify only what follows this signed state (a checkpoint's log head and stream heads). */
  from?: { position: number; hash: string | null; streams: Map<string, { version: number; hash: string }> };
  /**
   * Keep the Merkle tree of the log (its frontier at `from.position`, an empty one from the start): each
   * signed Merkle root passed is then checked too, and finish() returns the root reached.
   */
  merkle?: MerkleFrontier;
  /** The kept checkpoints the log and every stream must pass through. */
  signed?: SignedLog;
}

/**
 * Verifies the whole log fed in global order: every global position present once, every stream's chain
 * (ChainVerifier), the running log hash against each signed log head, and at the end every signed stream
 * head reached. Stops at the first broken link.
 */
export class LogVerifier {
  private position: number;
  private hash: string | null;
  private count = 0;
  private broken: LogBrokenLink | null = null;
  private readonly verifiers = new Map<string, ChainVerifier>();
  private readonly checkpoints: LogCheckpoint[];
  private nextCheckpoint = 0;
  private matched: LogCheckpoint | null = null;
  private readonly merkle: MerkleFrontier | null;

  constructor(private readonly options: LogVerifierOptions = {}) {
    this.merkle = options.merkle ?? null;
    this.position = options.from?.position ?? 0;
    this.hash = options.from?.hash ?? null;
    this.checkpoints = (options.signed?.checkpoints ?? []).filter((c) => c.log.position > this.position);
    // Every signed stream must be found, even one whose events are all gone.
    for (const streamId of options.signed?.streams.keys() ?? []) this.verifierOf(streamId);
  }

  get firstBroken(): LogBrokenLink | null {
    return this.broken;
  }

  private verifierOf(streamId: string): ChainVerifier {
    let verifier = this.verifiers.get(streamId);
    if (!verifier) {
      verifier = new ChainVerifier(streamId, {
        from: this.options.from?.streams.get(streamId),
        signed: this.options.signed?.streams.get(streamId),
      });
      this.verifiers.set(streamId, verifier);
    }
    return verifier;
  }

  push(row: StoredRow): boolean {
    if (this.broken) return false;
    const global = Number(row.global_position);
    if (global !== this.position + 1) {
      this.broken = {
        position: row.position,
        eventId: row.event_id,
        check: 'global-position',
        expected: `global position ${this.position + 1}`,
        found: `global position ${global} (the events in between are missing)`,
        streamId: row.stream_id,
        globalPosition: this.position + 1,
      };
      return false;
    }
    const verifier = this.verifierOf(row.stream_id);
    if (!verifier.push(row)) {
      this.broken = {
        ...(verifier.firstBroken as BrokenLink),
        streamId: row.stream_id,
        globalPosition: global,
      };
      return false;
    }
    this.count += 1;
    this.position = global;
    this.hash = foldLogHash(this.hash, global, verifier.lastHash as string);
    this.merkle?.append(eventLeaf(verifier.lastHash as string));
    const checkpoint = this.checkpoints[this.nextCheckpoint];
    if (checkpoint && checkpoint.log.position === global) {
      const signedRoot = checkpoint.log.merkle?.root;
      const root = this.merkle?.root().toString('hex');
      if (signedRoot && root && signedRoot !== root) {
        this.broken = {
          position: row.position,
          eventId: row.event_id,
          check: 'signed-log-head',
          expected: `Merkle root ${signedRoot} at global position ${global} (log checkpoint #${checkpoint.sequence} of ${checkpoint.signedAt})`,
          found: `Merkle root ${root}: the log up to here is not the one that was signed`,
          streamId: row.stream_id,
          globalPosition: global,
        };
        return false;
      }
      if (checkpoint.log.hash !== this.hash) {
        this.broken = {
          position: row.position,
          eventId: row.event_id,
          check: 'signed-log-head',
          expected: `log hash ${checkpoint.log.hash} at global position ${global} (log checkpoint #${checkpoint.sequence} of ${checkpoint.signedAt})`,
          found: `log hash ${this.hash}: the log up to here is not the one that was signed`,
          streamId: row.stream_id,
          globalPosition: global,
        };
        return false;
      }
      this.matched = checkpoint;
      this.nextCheckpoint += 1;
    }
    return true;
  }

  /**
   * Checks the end: the signed log and stream heads reached, and, when given, the recorded heads (the global
   * head position and each stream's head row, which must belong to a stream with events).
   */
  finish(recorded?: {
    position: number;
    streams: Map<string, { version: number; last_hash: string }>;
  }): LogAuditResult {
    const unreached = this.checkpoints[this.checkpoints.length - 1];
    if (!this.broken && unreached && unreached.log.position > this.position) {
      this.broken = {
        position: 0,
        eventId: null,
        check: 'signed-log-head',
        expected: `events up to global position ${unreached.log.position} (log checkpoint #${unreached.sequence} of ${unreached.signedAt})`,
        found: `the log ends at global position ${this.position}`,
        streamId: null,
        globalPosition: this.position + 1,
      };
    }
    if (!this.broken) {
      const results: AuditResult[] = [...this.verifiers.values()].map((verifier) =>
        verifier.finish(recorded ? (recorded.streams.get(verifier.streamId) ?? null) : undefined),
      );
      const failed = results
        .filter((r) => !r.ok)
        .sort((a, b) => a.firstBroken!.position - b.firstBroken!.position)[0];
      if (failed) this.broken = { ...failed.firstBroken!, streamId: failed.streamId, globalPosition: null };
    }
    if (!this.broken && recorded) {
      const orphan = [...recorded.streams.entries()].find(([streamId]) => !this.verifiers.has(streamId));
      if (orphan)
        this.broken = {
          position: orphan[1].version,
          eventId: null,
          check: 'head',
          expected: `events up to position ${orphan[1].version} (its head row)`,
          found: 'no events',
          streamId: orphan[0],
          globalPosition: null,
        };
      else if (recorded.position !== this.position)
        this.broken = {
          position: 0,
          eventId: null,
          check: 'head',
          expected: `global position ${recorded.position} (recon_log_head)`,
          found: `the log ends at global position ${this.position}`,
          streamId: null,
          globalPosition: null,
        };
    }
    return {
      ok: this.broken === null,
      eventsChecked: this.count,
      streams: this.verifiers.size,
      position: this.position,
      logHash: this.hash,
      signedThrough:
        this.broken || !this.matched
          ? null
          : {
              sequence: this.matched.sequence,
              signedAt: this.matched.signedAt,
              position: this.matched.log.position,
            },
      firstBroken: this.broken,
      merkle: this.merkle
        ? { root: this.merkle.root().toString('hex'), frontier: this.merkle.toHex() }
        : null,
    };
  }

  /** The heads of the streams that grew past the state the verifier started from. */
  grownStreams(): Record<string, { version: number; hash: string }> {
    const grown: Record<string, { version: number; hash: string }> = {};
    for (const [streamId, verifier] of this.verifiers) {
      const version = verifier.nextPosition - 1;
      if (version > (this.options.from?.streams.get(streamId)?.version ?? 0))
        grown[streamId] = { version, hash: verifier.lastHash as string };
    }
    return grown;
  }
}

async function feed(
  client: Pick<PoolClient, 'query'>,
  verifier: LogVerifier,
  after: number,
  upTo: number,
  visit?: (row: StoredRow) => void,
  pageSize = 5000,
): Promise<void> {
  for (let from = after; ;) {
    const page = await client.query<StoredRow>(
      `SELECT ${EVENT_COLUMNS} FROM recon_events WHERE global_position > $1 AND global_position <= $2
        ORDER BY global_position LIMIT $3`,
      [from, upTo, pageSize],
    );
    for (const row of page.rows) {
      if (!verifier.push(row)) return;
      visit?.(row);
    }
    if (page.rows.length < pageSize) return;
    from = Number(page.rows[page.rows.length - 1].global_position);
  }
}

/**
 * Names the PostgreSQL database a log lives in: its cluster's system identifier, its oid and its name. A
 * database recreated under the same name is another log; someone with write access to it cannot change this.
 */
export async function databaseIdentity(client: Pick<PoolClient, 'query'> | Pool): Promise<string> {
  const { rows } = await client.query<{ name: string; oid: string }>(
    'SELECT current_database() AS name, (SELECT oid::text FROM pg_database WHERE datname = current_database()) AS oid',
  );
  let cluster = 'unknown-cluster';
  try {
    const system = await client.query<{ id: string }>(
      'SELECT system_identifier::text AS id FROM pg_control_system()',
    );
    cluster = system.rows[0].id;
  } catch {
    // pg_control_system() may be revoked from the application's role: the oid still tells databases apart.
  }
  return `postgresql:${cluster}/${rows[0].oid}/${rows[0].name}`;
}

/**
 * Verifies the whole log from its first event against the kept checkpoints (`recon audit --all`); `visit`
 * sees every verified row in global order.
 */
export async function auditLog(
  pool: Pool,
  signed?: SignedLog,
  visit?: (row: StoredRow) => void,
): Promise<LogAuditResult> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const head = await client.query<{ global_position: string }>(
      'SELECT global_position FROM recon_log_head WHERE id = 1',
    );
    const position = Number(head.rows[0]?.global_position ?? 0);
    // The Merkle roots are recomputed only when a checkpoint signed one (the running hash covers the rest).
    const merkle = signed?.checkpoints.some((c) => c.log.merkle) ? new MerkleFrontier() : undefined;
    const verifier = new LogVerifier({ signed, merkle });
    await feed(client, verifier, 0, Number.MAX_SAFE_INTEGER, visit);
    const streams = await client.query<{ stream_id: string; version: number; last_hash: string }>(
      'SELECT stream_id, version, last_hash FROM recon_streams',
    );
    await client.query('COMMIT');
    return verifier.finish({ position, streams: new Map(streams.rows.map((row) => [row.stream_id, row])) });
  } finally {
    await client.query('ROLLBACK').catch(() => undefined);
    client.release();
  }
}

export interface PublishedCheckpoint {
  checkpoint: LogCheckpoint;
  /** False when the log had not grown since the latest checkpoint (that one is returned). */
  published: boolean;
  eventsVerified: number;
  file: string;
}

/**
 * Serialises publishers of one database: a session advisory lock in PostgreSQL's two-key space, which never
 * overlaps the one-key locks the rest of the platform takes (the projection processor holds 7_224_032 for
 * as long as it runs: sharing that key made every signer wait for the gateway to stop).
 */
const CHECKPOINT_LOCK: readonly [number, number] = [7_224_032, 1];

/**
 * Signs and publishes a checkpoint of the log: verifies every event appended since the latest kept
 * checkpoint (each stream's chain continuing from its signed head, every global position present), then
 * signs the new log head and the heads of the streams that grew, and appends the checkpoint to `file`.
 * Refuses (CheckpointError) when the log does not extend the signed state: a signature never covers a
 * rewritten log. The first checkpoint of a database verifies the whole log.
 */
export async function publishLogCheckpoint(
  pool: Pool,
  options: { file: string; key: LogSigningKey; now?: Date },
): Promise<PublishedCheckpoint> {
  const client = await pool.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1, $2)', [...CHECKPOINT_LOCK]);
    try {
      const database = await databaseIdentity(client);
      // The snapshot is taken after the lock, so it includes everything an earlier publisher signed.
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      const signed = readLogCheckpoints(options.file, database, options.key);
      const latest = signed.latest;
      const head = await client.query<{ global_position: string }>(
        'SELECT global_position FROM recon_log_head WHERE id = 1',
      );
      const position = Number(head.rows[0]?.global_position ?? 0);
      if (latest && position < latest.log.position)
        throw new CheckpointError(
          `refusing to sign: the log ends at global position ${position}, before checkpoint #${latest.sequence} (position ${latest.log.position}): events were removed`,
        );
      if (latest && position === latest.log.position)
        return { checkpoint: latest, published: false, eventsVerified: 0, file: options.file };
      const from = latest
        ? {
            position: latest.log.position,
            hash: latest.log.hash,
            streams: new Map([...signed.streams].map(([id, heads]) => [id, heads[heads.length - 1]])),
          }
        : undefined;
      const merkle = latest ? await merkleFrontierAt(client, latest) : new MerkleFrontier();
      const verifier = new LogVerifier({ from, merkle });
      await feed(client, verifier, from?.position ?? 0, position);
      const result = verifier.finish();
      if (!result.ok) throw new CheckpointError(`refusing to sign: ${describeLogBreak(result.firstBroken!)}`);
      if (result.position !== position)
        throw new CheckpointError(
          `refusing to sign: the log head says global position ${position}, but its events end at ${result.position}`,
        );
      const checkpoint = signCheckpoint(
        {
          format: CHECKPOINT_FORMAT,
          database,
          sequence: (latest?.sequence ?? 0) + 1,
          previous: latest ? checkpointDigest(latest) : null,
          signedAt: (options.now ?? new Date()).toISOString(),
          log: { position, hash: result.logHash, merkle: result.merkle! },
          streams: verifier.grownStreams(),
        },
        options.key,
      );
      appendCheckpoint(options.file, checkpoint);
      return { checkpoint, published: true, eventsVerified: result.eventsChecked, file: options.file };
    } finally {
      await client.query('ROLLBACK').catch(() => undefined);
      await client.query('SELECT pg_advisory_unlock($1, $2)', [...CHECKPOINT_LOCK]).catch(() => undefined);
    }
  } finally {
    client.release();
  }
}

/**
 * The Merkle frontier at a checkpoint: the one it signed, or, for a checkpoint from before the Merkle tree
 * (format 1), rebuilt from the event hashes up to its position, which must fold to the log hash it signed.
 */
async function merkleFrontierAt(
  client: Pick<PoolClient, 'query'>,
  checkpoint: LogCheckpoint,
): Promise<MerkleFrontier> {
  const { position, merkle } = checkpoint.log;
  if (merkle) return MerkleFrontier.fromHex(position, merkle.frontier);
  const frontier = new MerkleFrontier();
  let hash: string | null = null;
  await eventHashes(client, 0, position, (global, eventHash) => {
    hash = foldLogHash(hash, global, eventHash);
    frontier.append(eventLeaf(eventHash));
  });
  if (frontier.size !== position || hash !== checkpoint.log.hash)
    throw new CheckpointError(
      `refusing to sign: the log up to global position ${position} is not the one log checkpoint #${checkpoint.sequence} signed`,
    );
  return frontier;
}

/**
 * The event hashes of global positions (after, upTo], in order, page by page; a gap in the positions stops
 * the reading (the caller sees fewer than it asked for).
 */
export async function eventHashes(
  client: Pick<PoolClient, 'query'> | Pool,
  after: number,
  upTo: number,
  visit: (globalPosition: number, hash: string) => void,
  pageSize = 50_000,
): Promise<void> {
  for (let from = after; from < upTo;) {
    const page = await client.query<{ global_position: string; hash: string }>(
      `SELECT global_position, hash FROM recon_events WHERE global_position > $1 AND global_position <= $2
        ORDER BY global_position LIMIT $3`,
      [from, upTo, pageSize],
    );
    for (const row of page.rows) {
      const global = Number(row.global_position);
      if (global !== from + 1) return;
      visit(global, row.hash);
      from = global;
    }
    if (page.rows.length < pageSize) return;
  }
}

/** One line naming a broken link of the log: stream, position, event and what differs. */
export function describeLogBreak(broken: LogBrokenLink): string {
  const where = broken.streamId
    ? `stream '${broken.streamId}' position ${broken.position}${broken.eventId ? ` (event ${broken.eventId})` : ''}`
    : `global position ${broken.globalPosition ?? '-'}`;
  return `${where}: ${broken.check}: expected ${broken.expected}, found ${broken.found}`;
}
