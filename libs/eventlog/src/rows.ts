import type { EventType, Producer } from '@recon/contracts';
import type { RecordedEvent } from './event-store';

/** The columns of recon_events as selected for reading; json columns come back as their stored text. */
export const EVENT_COLUMNS = `global_position, event_id, stream_id, position, type, schema_version, occurred_at,
  producer::text AS producer, causation_id, correlation_id, payload::text AS payload, meta::text AS meta,
  payload_hash, meta_hash, prev_hash, hash, tombstoned_by`;

export interface StoredRow {
  global_position: string;
  event_id: string;
  stream_id: string;
  position: number;
  type: string;
  schema_version: number;
  occurred_at: string;
  producer: string;
  causation_id: string | null;
  correlation_id: string | null;
  payload: string;
  meta: string;
  payload_hash: string;
  meta_hash: string;
  prev_hash: string | null;
  hash: string;
  tombstoned_by: string | null;
}

/** T: the types the query selected (its `type = ANY(...)` filter), all types when it selected any. */
export function rowToEvent<T extends EventType = EventType>(row: StoredRow): RecordedEvent<T> {
  return {
    globalPosition: Number(row.global_position),
    eventId: row.event_id,
    streamId: row.stream_id,
    position: row.position,
    type: row.type,
    schemaVersion: row.schema_version,
    occurredAt: row.occurred_at,
    producer: JSON.parse(row.producer) as Producer,
    causationId: row.causation_id,
    correlationId: row.correlation_id,
    payload: JSON.parse(row.payload),
    meta: JSON.parse(row.meta),
    payloadHash: row.payload_hash,
    metaHash: row.meta_hash,
    prevHash: row.prev_hash,
    hash: row.hash,
    ...(row.tombstoned_by ? { tombstonedBy: row.tombstoned_by } : {}),
  } as RecordedEvent<T>;
}


/** The payload text a tombstoned event carries instead of its content. */
export function tombstoneText(deletionEventId: string): string {
  return `{"tombstone":{"deletedBy":"${deletionEventId}"}}`;
}
