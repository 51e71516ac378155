import { randomUUID } from 'node:crypto';
import {
  ContractViolationError,
  latestVersion,
  validatePayload,
  type EventType,
  type Producer,
} from '@recon/contracts';
import { canonicalJson, sha256Hex } from './canonical';
import { canonicalProducer, hashEnvelope } from './chain';
import type { NewEvent } from './event-store';

/** An event validated and serialised canonically, not yet placed in its stream. */
export interface PreparedEvent {
  eventId: string;
  type: string;
  schemaVersion: number;
  occurredAt: string;
  causationId: string | null;
  correlationId: string | null;
  payload: unknown;
  meta: Record<string, unknown>;
  payloadJson: string;
  metaJson: string;
  payloadHash: string;
  metaHash: string;
}

/** An event ready to insert: prepared, then placed after its predecessor and chained to it. */
export interface SealedEvent extends PreparedEvent {
  streamId: string;
  position: number;
  producer: Producer;
  prevHash: string | null;
  hash: string;
}

const EMPTY_META_HASH = sha256Hex('{}');

/** JSON's escape of U+0000 (an odd run of backslashes before u0000; an even run is a literal backslash). */
const ESCAPED_NUL = /(^|[^\\])(\\\\)*\\u0000/;
/** The regex only runs on the rare text holding `\u0000` at all (a plain substring search first). */
const hasEscapedNul = (json: string) => json.includes('\\u0000') && ESCAPED_NUL.test(json);

/**
 * Validates each event against its contract and serialises it. Runs before an append takes any lock, so
 * invalid input never reaches the database and the work under the lock stays small.
 */
export function prepareEvents(streamId: string, events: NewEvent[], now: Date = new Date()): PreparedEvent[] {
  const occurredAt = now.toISOString();
  return events.map((event) => {
    const schemaVersion = event.schemaVersion ?? latestVersion(event.type);
    const payload = validatePayload(
      event.type as EventType,
      schemaVersion,
      event.payload,
      `stream '${streamId}'`,
    );
    const meta = event.meta ?? {};
    const payloadJson = canonicalJson(payload);
    const metaJson = canonicalJson(meta);
    // PostgreSQL cannot store U+0000 in text or jsonb: such an event would be written and then stop every
    // projection that reads it, so it is refused here, whatever field holds it.
    if (hasEscapedNul(payloadJson) || hasEscapedNul(metaJson))
      throw new ContractViolationError(
        event.type,
        '',
        'a string contains U+0000, which PostgreSQL cannot store',
        `stream '${streamId}'`,
      );
    return {
      eventId: event.eventId ?? randomUUID(),
      type: event.type,
      schemaVersion,
      occurredAt,
      causationId: event.causationId ?? null,
      correlationId: event.correlationId ?? null,
      payload,
      meta,
      payloadJson,
      metaJson,
      payloadHash: sha256Hex(payloadJson),
      metaHash: metaJson === '{}' ? EMPTY_META_HASH : sha256Hex(metaJson),
    };
  });
}

/** Places prepared events after (lastPosition, lastHash) of the stream and chains them. */
export function chainEvents(
  streamId: string,
  prepared: PreparedEvent[],
  producer: Producer,
  lastPosition: number,
  lastHash: string | null,
): SealedEvent[] {
  const producerJson = canonicalProducer(producer);
  let prevHash = lastHash;
  const sealed: SealedEvent[] = new Array(prepared.length);
  for (let index = 0; index < prepared.length; index += 1) {
    const event = prepared[index];
    // Written out rather than spread: this runs for every event of every append.
    const placed: SealedEvent = {
      eventId: event.eventId,
      type: event.type,
      schemaVersion: event.schemaVersion,
      occurredAt: event.occurredAt,
      causationId: event.causationId,
      correlationId: event.correlationId,
      payload: event.payload,
      meta: event.meta,
      payloadJson: event.payloadJson,
      metaJson: event.metaJson,
      payloadHash: event.payloadHash,
      metaHash: event.metaHash,
      streamId,
      position: lastPosition + index + 1,
      producer,
      prevHash,
      hash: '',
    };
    placed.hash = hashEnvelope(placed, producerJson);
    prevHash = placed.hash;
    sealed[index] = placed;
  }
  return sealed;
}

export function sealEvents(
  streamId: string,
  events: NewEvent[],
  producer: Producer,
  lastPosition: number,
  lastHash: string | null,
  now: Date = new Date(),
): SealedEvent[] {
  return chainEvents(streamId, prepareEvents(streamId, events, now), producer, lastPosition, lastHash);
}
