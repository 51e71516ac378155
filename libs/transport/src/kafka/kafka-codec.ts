import type { IHeaders, KafkaMessage, Message } from 'kafkajs';
import { envelopeSchema, keyBelongsToStream, partitionKeyOf, validateEnvelope } from '@recon/contracts';
import { canonicalJson, envelopeHash, sha256Hex, type RecordedEvent } from '@recon/eventlog';

/** Headers every event message carries, so a consumer can filter by type without decoding the value. */
export const HEADER_TYPE = 'recon-type';
export const HEADER_EVENT_ID = 'recon-event-id';
export const HEADER_GLOBAL_POSITION = 'recon-global-position';
export const HEADER_TOMBSTONED_BY = 'recon-tombstoned-by';

/** A message that cannot be delivered as an event: undecodable, not a valid envelope, or not what the log sealed. */
export class PoisonMessageError extends Error {
  constructor(
    readonly where: string,
    readonly reason: string,
  ) {
    super(`${where}: poison message: ${reason}`);
    this.name = 'PoisonMessageError';
  }
}

/**
 * The Kafka message of a committed event, keyed by partitionKeyOf: the stream (run) id, so a run's events
 * share a partition, or a finer `<stream>#<part>` key for work a group may share. A withdrawn event's payload
 * is a tombstone, so it is keyed by its stream.
 */
export function encodeEvent(event: RecordedEvent): Message {
  const { tombstonedBy, ...envelope } = event;
  const headers: IHeaders = {
    [HEADER_TYPE]: event.type,
    [HEADER_EVENT_ID]: event.eventId,
    [HEADER_GLOBAL_POSITION]: String(event.globalPosition),
  };
  if (tombstonedBy) headers[HEADER_TOMBSTONED_BY] = tombstonedBy;
  return { key: messageKeyOf(event), value: JSON.stringify(envelope), headers };
}

/** The key an event is published under (see encodeEvent): what decides its partition. */
export function messageKeyOf(
  event: Pick<RecordedEvent, 'streamId' | 'type' | 'payload' | 'tombstonedBy'>,
): string {
  return event.tombstonedBy ? event.streamId : partitionKeyOf(event);
}

export function headerText(headers: IHeaders | undefined, name: string): string | undefined {
  const value = headers?.[name];
  if (value === undefined || value === null) return undefined;
  const first = Array.isArray(value) ? value[0] : value;
  return first === undefined ? undefined : Buffer.isBuffer(first) ? first.toString('utf8') : String(first);
}

/**
 * The event a message carries. Throws PoisonMessageError naming `where` and the reason when the value is
 * not JSON, the envelope or payload breaks its contract, the key is not its stream's, or a hash does not
 * match (the message is not the event the log sealed). A withdrawn event's payload is a tombstone, so only
 * its envelope is checked.
 */
export function decodeEvent(
  message: Pick<KafkaMessage, 'key' | 'value' | 'headers'>,
  where: string,
): RecordedEvent {
  if (!message.value) throw new PoisonMessageError(where, 'the message has no value');
  let candidate: unknown;
  try {
    candidate = JSON.parse(message.value.toString('utf8'));
  } catch (error) {
    throw new PoisonMessageError(where, `the value is not JSON (${(error as Error).message})`);
  }
  const tombstonedBy = headerText(message.headers, HEADER_TOMBSTONED_BY);
  let envelope: ReturnType<typeof validateEnvelope>;
  try {
    if (tombstonedBy) {
      const shape = envelopeSchema.safeParse(candidate);
      if (!shape.success) {
        const issue = shape.error.issues[0];
        throw new Error(
          `invalid envelope at field '${issue.path.map(String).join('.') || '(envelope)'}': ${issue.message}`,
        );
      }
      envelope = shape.data as ReturnType<typeof validateEnvelope>;
    } else {
      envelope = validateEnvelope(candidate);
    }
  } catch (error) {
    throw new PoisonMessageError(where, (error as Error).message);
  }
  if (envelope.globalPosition === undefined)
    throw new PoisonMessageError(where, 'the envelope has no globalPosition');
  const key = message.key?.toString('utf8');
  if (key === undefined || !keyBelongsToStream(key, envelope.streamId)) {
    throw new PoisonMessageError(
      where,
      `the key '${key ?? ''}' is not the event's stream id '${envelope.streamId}' (or a key of it)`,
    );
  }
  if (envelopeHash(envelope) !== envelope.hash) {
    throw new PoisonMessageError(where, `the envelope hash does not match (event ${envelope.eventId})`);
  }
  if (!tombstonedBy && sha256Hex(canonicalJson(envelope.payload)) !== envelope.payloadHash) {
    throw new PoisonMessageError(where, `the payload hash does not match (event ${envelope.eventId})`);
  }
  if (sha256Hex(canonicalJson(envelope.meta)) !== envelope.metaHash) {
    throw new PoisonMessageError(where, `the meta hash does not match (event ${envelope.eventId})`);
  }
  return (tombstonedBy ? { ...envelope, tombstonedBy } : envelope) as RecordedEvent;
}
