import type { Pool } from 'pg';
import type { Producer } from '@recon/contracts';
import { sha256Hex } from './canonical';
import { envelopeHash } from './chain';
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
  | 'tombstone';

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
}

/** Incremental verifier of one stream's hash chain, fed rows in stream-position order. */
export class ChainVerifier {
  private expectedPosition = 1;
  private prevHash: string | null = null;
  private prevGlobal = 0;
  private count = 0;
  private broken: BrokenLink | null = null;
  private readonly producers = new Map<string, Producer>();
  /** Tombstoned events not yet matched by the deletion event that must follow them in the stream. */
  private readonly pendingTombstones = new Map<string, { position: number; deletedBy: string }>();
  private tombstoned = 0;

  constructor(readonly streamId: string) {}

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
    const hash = envelopeHash({
      eventId: row.event_id,
      streamId: row.stream_id,
      position: row.position,
      type: row.type,
      schemaVersion: row.schema_version,
      occurredAt: row.occurred_at,
      producer: this.producerOf(row.producer),
      causationId: row.causation_id,
      correlationId: row.correlation_id,
      payloadHash,
      metaHash,
      prevHash: this.prevHash,
    });
    if (hash !== row.hash) return fail('hash', row.hash, hash);
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

  private producerOf(text: string): Producer {
    let producer = this.producers.get(text);
    if (!producer) {
      producer = JSON.parse(text) as Producer;
      this.producers.set(text, producer);
    }
    return producer;
  }

  /** Compares the end of the chain with the stream head recorded at append time (detects a deleted tail). */
  finish(head: { version: number; last_hash: string } | undefined): AuditResult {
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
    if (!this.broken && head) {
      const lastPosition = this.expectedPosition - 1;
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
    return {
      streamId: this.streamId,
      eventsChecked: this.count,
      ok: this.broken === null,
      headHash: this.prevHash,
      tombstoned: this.tombstoned,
      firstBroken: this.broken,
    };
  }
}

/** Verifies a stream's hash chain as stored in PostgreSQL, reading it in pages. */
export async function auditStream(pool: Pool, streamId: string, pageSize = 5000): Promise<AuditResult> {
  const verifier = new ChainVerifier(streamId);
  let after = 0;
  for (;;) {
    const page = await pool.query<AuditRow>(
      `SELECT ${EVENT_COLUMNS} FROM recon_events WHERE stream_id = $1 AND position > $2 ORDER BY position LIMIT $3`,
      [streamId, after, pageSize],
    );
    for (const row of page.rows) if (!verifier.push(row)) break;
    if (verifier.firstBroken || page.rows.length < pageSize) break;
    after = page.rows[page.rows.length - 1].position;
  }
  const head = await pool.query<{ version: number; last_hash: string }>(
    'SELECT version, last_hash FROM recon_streams WHERE stream_id = $1',
    [streamId],
  );
  return verifier.finish(head.rows[0]);
}
