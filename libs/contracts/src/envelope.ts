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

export type Envelope<T extends EventType = EventType> = Omit<
  z.infer<typeof envelopeSchema>,
  'payload' | 'type'
> & {
  type: T;
  payload: PayloadOf<T>;
};

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
