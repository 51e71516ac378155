import type { Pool } from 'pg';
import type { Producer } from '@recon/contracts';
import { sha256Hex } from './canonical';
import { canonicalProducer, hashEnvelope } from './chain';
import { EVENT_COLUMNS, tombstoneText, type StoredRow } from './rows';

/** Rows are verified as stored: the audit hashes the stored json text, never a re-serialisation. */
export type AuditRow = StoredRow;

export type AuditCheck =
  | 'position'
  | 'global-order'
  | 'payload-hash'
  | 'meta-hash'
  | 'prev-hash'
  | 'hash'
  | 'head'
  | 'tombstone'
  | 'signed-head';

export interface BrokenLink {
  position: number;
  eventId: string | null;
  check: AuditCheck;
  expected: string;
  found: string;
}

export interface AuditResult {
  streamId: string;
  eventsChecked: number;
  ok: boolean;
  headHash: string | null;
  /** Events whose content was withdrawn by a recorded deletion (their hashes still verify the chain). */
  tombstoned: number;
  firstBroken: BrokenLink | null;
  /** The highest signed head (of a checkpoint kept outside the database) the chain was compared with. */
  signedThrough: SignedHead | null;
}

/** A stream head signed in a log checkpoint: the hash the event at `version` had when it was signed. */
export interface SignedHead {
  version: number;
  hash: string;
  /** The checkpoint that signed it (its sequence number and time), to name it in reports. */
  sequence: number;
  signedAt: string;
}

export interface ChainVerifierOptions {
  /** Verify only what follows this (already verified or signed) head, e.g. since the last checkpoint. */
  from?: { version: number; hash: string };
  /** Signed heads of the stream, ascending by version: the chain must pass through each of them. */
  signed?: readonly SignedHead[];
}

/** Incremental verifier of one stream's hash chain, fed rows in stream-position order. */
export class ChainVerifier {
  private expectedPosition = 1;
  private prevHash: string | null = null;
  private prevGlobal = 0;
  private count = 0;
  private broken: BrokenLink | null = null;
  private readonly producers = new Map<string, string>();
  /** Tombstoned events not yet matched by the deletion event that must follow them in the stream. */
  private readonly pendingTombstones = new Map<string, { position: number; deletedBy: string }>();
  private tombstoned = 0;
  private readonly signed: readonly SignedHead[];
  private nextSigned = 0;

  constructor(
    readonly streamId: string,
    options: ChainVerifierOptions = {},
  ) {
    if (options.from) {
      this.expectedPosition = options.from.version + 1;
      this.prevHash = options.from.hash;
    }
    this.signed = options.signed ?? [];
    while (this.nextSigned < this.signed.length && this.signed[this.nextSigned].version < this.expectedPosition)
      this.nextSigned += 1;
  }

  /** The position the next row must have (one past the last verified event). */
  get nextPosition(): number {
    return this.expectedPosition;
  }

  /** The hash of the last verified event, computed from its content (null before the first). */
  get lastHash(): string | null {
    return this.prevHash;
  }

  get firstBroken(): BrokenLink | null {
    return this.broken;
  }

  /** Returns false once a link is broken (later rows are not checked: the first break is what matters). */
  push(row: AuditRow): boolean {
    if (this.broken) return false;
    this.count += 1;
    const fail = (check: AuditCheck, expected: string, found: string) => {
      this.broken = { position: this.expectedPosition, eventId: row.event_id, check, expected, found };
      return false;
    };
    if (row.position !== this.expectedPosition) {
      return fail('position', String(this.expectedPosition), String(row.position));
    }
    const global = Number(row.global_position);
    if (global <= this.prevGlobal) return fail('global-order', `> ${this.prevGlobal}`, String(global));
    let payloadHash: string;
    if (row.tombstoned_by) {
      // The content is gone by a recorded deletion; the original payload hash stays in the chain.
      const expected = tombstoneText(row.tombstoned_by);
      if (row.payload !== expected) return fail('tombstone', expected, row.payload);
      this.pendingTombstones.set(row.event_id, { position: row.position, deletedBy: row.tombstoned_by });
      this.tombstoned += 1;
      payloadHash = row.payload_hash;
    } else {
      payloadHash = sha256Hex(row.payload);
      if (payloadHash !== row.payload_hash) return fail('payload-hash', row.payload_hash, payloadHash);
    }
    const metaHash = sha256Hex(row.meta);
    if (metaHash !== row.meta_hash) return fail('meta-hash', row.meta_hash, metaHash);
    if (row.prev_hash !== this.prevHash) return fail('prev-hash', String(this.prevHash), String(row.prev_hash));
    const hash = hashEnvelope({
      eventId: row.event_id,
      streamId: row.stream_id,
      position: row.position,
      type: row.type,
      schemaVersion: row.schema_version,
      occurredAt: row.occurred_at,
      causationId: row.causation_id,
      correlationId: row.correlation_id,
      payloadHash,
      metaHash,
      prevHash: this.prevHash,
    }, this.producerOf(row.producer));
    if (hash !== row.hash) return fail('hash', row.hash, hash);
    const signed = this.signed[this.nextSigned];
    if (signed && signed.version === row.position) {
      if (hash !== signed.hash) {
        const previous = this.nextSigned > 0 ? this.signed[this.nextSigned - 1] : null;
        return fail(
          'signed-head',
          `hash ${signed.hash} (signed in log checkpoint #${signed.sequence} of ${signed.signedAt})`,
          `hash ${hash}: the events ${previous ? `after position ${previous.version} (where the log still matches checkpoint #${previous.sequence})` : 'from position 1'} up to here are not those that were signed`,
        );
      }
      this.nextSigned += 1;
    }
    if (row.type === 'run.content.deleted' && !row.tombstoned_by) {
      for (const eventId of (JSON.parse(row.payload) as { eventIds: string[] }).eventIds) {
        if (this.pendingTombstones.get(eventId)?.deletedBy === row.event_id) this.pendingTombstones.delete(eventId);
      }
    }
    this.prevHash = hash;
    this.prevGlobal = global;
    this.expectedPosition += 1;
    return true;
  }

  /** The canonical JSON of a stored producer (parsed once per distinct stored text). */
  private producerOf(text: string): string {
    let producer = this.producers.get(text);
    if (producer === undefined) {
      producer = canonicalProducer(JSON.parse(text) as Producer);
      this.producers.set(text, producer);
    }
    return producer;
  }

  /**
   * Checks the end of the chain: every tombstone authorised, every signed head reached (a log cut short
   * after a checkpoint is caught here even when its head row was rewritten), and the stream head recorded at
   * append time (`head`: its row of recon_streams, null when that row is missing).
   */
  finish(head?: { version: number; last_hash: string } | null): AuditResult {
    const [unauthorised] = [...this.pendingTombstones.entries()].sort((a, b) => a[1].position - b[1].position);
    if (!this.broken && unauthorised) {
      const [eventId, { position, deletedBy }] = unauthorised;
      this.broken = {
        position,
        eventId,
        check: 'tombstone',
        expected: `a later run.content.deleted event ${deletedBy} listing this event`,
        found: 'no such deletion event in the stream',
      };
    }
    const lastPosition = this.expectedPosition - 1;
    const unreached = this.signed[this.signed.length - 1];
    if (!this.broken && unreached && unreached.version > lastPosition) {
      this.broken = {
        position: lastPosition + 1,
        eventId: null,
        check: 'signed-head',
        expected: `events up to position ${unreached.version}, hash ${unreached.hash} (signed in log checkpoint #${unreached.sequence} of ${unreached.signedAt})`,
        found: lastPosition === 0 ? 'no events' : `the stream ends at position ${lastPosition}, hash ${this.prevHash}`,
      };
    }
    if (!this.broken && head === null && this.count > 0) {
      this.broken = {
        position: lastPosition,
        eventId: null,
        check: 'head',
        expected: `a stream head row in recon_streams (version ${lastPosition}, hash ${this.prevHash})`,
        found: 'no head row',
      };
    }
    if (!this.broken && head) {
      if (head.version !== lastPosition || head.last_hash !== this.prevHash) {
        this.broken = {
          position: head.version,
          eventId: null,
          check: 'head',
          expected: `version ${head.version}, hash ${head.last_hash}`,
          found: `version ${lastPosition}, hash ${this.prevHash}`,
        };
      }
    }
    const reached = this.signed.filter((signed) => signed.version <= lastPosition);
    return {
      streamId: this.streamId,
      eventsChecked: this.count,
      ok: this.broken === null,
      headHash: this.prevHash,
      tombstoned: this.tombstoned,
      firstBroken: this.broken,
      signedThrough: this.broken ? null : (reached[reached.length - 1] ?? null),
    };
  }
}

export interface AuditStreamOptions {
  /** Signed heads of the stream from the kept log checkpoints (see readLogCheckpoints). */
  signed?: readonly SignedHead[];
  /** Sees every row verified, in stream order (the run audit collects blob references this way). */
  visit?: (row: AuditRow) => void;
  pageSize?: number;
}

/** Verifies a stream's hash chain as stored in PostgreSQL, reading it in pages. */
export async function auditStream(pool: Pool, streamId: string, options: AuditStreamOptions = {}): Promise<AuditResult> {
  const pageSize = options.pageSize ?? 5000;
  const verifier = new ChainVerifier(streamId, { signed: options.signed });
  let after = 0;
  for (;;) {
    const page = await pool.query<AuditRow>(
      `SELECT ${EVENT_COLUMNS} FROM recon_events WHERE stream_id = $1 AND position > $2 ORDER BY position LIMIT $3`,
      [streamId, after, pageSize],
    );
    for (const row of page.rows) {
      if (!verifier.push(row)) break;
      options.visit?.(row);
    }
    if (verifier.firstBroken || page.rows.length < pageSize) break;
    after = page.rows[page.rows.length - 1].position;
  }
  const head = await pool.query<{ version: number; last_hash: string }>(
    'SELECT version, last_hash FROM recon_streams WHERE stream_id = $1',
    [streamId],
  );
  return verifier.finish(head.rows[0] ?? null);
}
