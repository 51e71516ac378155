import { z } from 'zod';
import { SERVICES } from './define-event';
import { ContractViolationError } from './errors';
import { validatePayload, type EventType, type PayloadOf } from './registry';
import { jsonObject, sha256Hex } from './common';

export const producerSchema = z.strictObject({
  service: z.enum(SERVICES),
  version: z.string().min(1),
  instance: z.string().min(1),
});
export type Producer = z.infer<typeof producerSchema>;

/**
 * A recorded event. `payloadHash` = sha256(canonical(payload)), `metaHash` likewise for meta; `hash` = sha256 of the canonical envelope
 * without `hash` and `globalPosition` (so it chains via `prevHash` to the previous event of the stream).
 */
export const envelopeSchema = z.strictObject({
  eventId: z.uuid(),
  streamId: z.string().min(1).max(200),
  position: z.number().int().positive(),
  globalPosition: z.number().int().positive().optional(),
  type: z.string().min(1),
  schemaVersion: z.number().int().positive(),
  occurredAt: z.iso.datetime(),
  producer: producerSchema,
  causationId: z.string().nullable(),
  correlationId: z.string().nullable(),
  payload: z.unknown(),
  meta: jsonObject,
  payloadHash: sha256Hex,
  metaHash: sha256Hex,
  prevHash: sha256Hex.nullable(),
  hash: sha256Hex,
});

type EnvelopeHeader = Omit<z.infer<typeof envelopeSchema>, 'payload' | 'type'>;

/**
 * An envelope of one of the types T, as a discriminated union on `type`: `switch (event.type)` or
 * `if (event.type === 'x')` narrows `payload`. A payload is typed as recorded: the store does not upcast, so
 * an event type with several schema versions has the union of their payloads (see PayloadOf).
 */
export type Envelope<T extends EventType = EventType> = {
  [K in T]: EnvelopeHeader & { type: K; payload: PayloadOf<K> };
}[T];

/**
 * A type guard for the events of the given types, for `filter`/`find`:
 * `events.filter(ofType('reward.scored', 'reward.failed'))` gives events whose payload is narrowed.
 */
export function ofType<T extends EventType>(...types: readonly T[]) {
  return <E extends { type: string }>(event: E): event is Extract<E, { type: T }> =>
    (types as readonly string[]).includes(event.type);
}

/** Anything carrying a typed event's type and payload (an envelope, a recorded event, a decider's event). */
export type TypedPayload = { [K in EventType]: { type: K; payload: PayloadOf<K> } }[EventType];

/** The events of one type, in their order, with their payload typed, for helpers generic in the type. */
export function eventsOf<T extends EventType, E extends TypedPayload>(
  events: readonly E[],
  type: T,
): Array<Extract<E, { type: T }> & { payload: PayloadOf<T> }> {
  // The one cast of the typed dispatch: TypeScript cannot relate a generic T's event to its payload
  // (microsoft/TypeScript#30581); the filter on `type` is what makes it hold.
  return events.filter((e) => e.type === type) as Array<Extract<E, { type: T }> & { payload: PayloadOf<T> }>;
}

/** The payloads of the events of one type, in their order. */
export function payloadsOf<T extends EventType>(events: readonly TypedPayload[], type: T): Array<PayloadOf<T>> {
  return eventsOf(events, type).map((e) => e.payload);
}

/** Validates an envelope arriving at a boundary (transport, file, HTTP): its shape, then its payload. */
export function validateEnvelope(candidate: unknown, where?: string): Envelope {
  const result = envelopeSchema.safeParse(candidate);
  const typeName =
    typeof (candidate as { type?: unknown })?.type === 'string'
      ? (candidate as { type: string }).type
      : '(unknown)';
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new ContractViolationError(
      typeName,
      issue.path.map(String).join('.') || '(envelope)',
      issue.message,
      where,
    );
  }
  const envelope = result.data;
  validatePayload(envelope.type as EventType, envelope.schemaVersion, envelope.payload, where);
  return envelope as Envelope;
}
