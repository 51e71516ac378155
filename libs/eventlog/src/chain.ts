import type { Producer } from '@recon/contracts';
import { sha256Hex } from './canonical';

/** The fields of an envelope that its hash covers; payload and meta enter through their own hashes. */
export interface ChainedFields {
  eventId: string;
  streamId: string;
  position: number;
  type: string;
  schemaVersion: number;
  occurredAt: string;
  producer: Producer;
  causationId: string | null;
  correlationId: string | null;
  payloadHash: string;
  metaHash: string;
  prevHash: string | null;
}

/**
 * sha256 over the canonical (RFC 8785) JSON of the chained fields; changing any of them, or the link,
 * changes it. The fields are only strings, integers and null, for which JSON.stringify's output is the
 * canonical form, so the text is written directly in canonical key order and no generic canonicaliser
 * runs on this hot path (a unit test pins the equality with canonicalJson(canonicalHeader(fields))).
 */
export function envelopeHash(fields: ChainedFields): string {
  return hashEnvelope(fields, canonicalProducer(fields.producer));
}

/** envelopeHash with the producer already in canonical JSON (canonicalProducer), as hot loops keep it. */
export function hashEnvelope(fields: Omit<ChainedFields, 'producer'>, producerJson: string): string {
  return sha256Hex(
    `{"causationId":${nullable(fields.causationId)},"correlationId":${nullable(fields.correlationId)},` +
      `"eventId":${JSON.stringify(fields.eventId)},"metaHash":${JSON.stringify(fields.metaHash)},` +
      `"occurredAt":${JSON.stringify(fields.occurredAt)},"payloadHash":${JSON.stringify(fields.payloadHash)},` +
      `"position":${integer(fields.position)},"prevHash":${nullable(fields.prevHash)},"producer":${producerJson},` +
      `"schemaVersion":${integer(fields.schemaVersion)},"streamId":${JSON.stringify(fields.streamId)},` +
      `"type":${JSON.stringify(fields.type)}}`,
  );
}

/** The canonical JSON of a producer, as it enters envelope hashes (computed once per batch or producer). */
export function canonicalProducer(producer: Producer): string {
  return `{"instance":${JSON.stringify(producer.instance)},"service":${JSON.stringify(producer.service)},"version":${JSON.stringify(producer.version)}}`;
}

const nullable = (value: string | null) => (value === null ? 'null' : JSON.stringify(value));

function integer(value: number): string {
  if (!Number.isSafeInteger(value)) throw new TypeError(`envelope field is not an integer: ${value}`);
  return String(value);
}

export function canonicalHeader(fields: ChainedFields): Record<string, unknown> {
  return {
    causationId: fields.causationId,
    correlationId: fields.correlationId,
    eventId: fields.eventId,
    metaHash: fields.metaHash,
    occurredAt: fields.occurredAt,
    payloadHash: fields.payloadHash,
    position: fields.position,
    prevHash: fields.prevHash,
    producer: {
      instance: fields.producer.instance,
      service: fields.producer.service,
      version: fields.producer.version,
    },
    schemaVersion: fields.schemaVersion,
    streamId: fields.streamId,
    type: fields.type,
  };
}
