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
 * changes it. The object is written with its keys already in canonical order and holds only strings,
 * integers and null, for which JSON.stringify's output is the canonical form, so no generic
 * canonicaliser runs on this hot path (a unit test pins the equality).
 */
export function envelopeHash(fields: ChainedFields): string {
  return sha256Hex(JSON.stringify(canonicalHeader(fields)));
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
