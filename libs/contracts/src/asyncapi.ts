import { z } from 'zod';
import { stringify } from 'yaml';
import { SERVICES, type ServiceName } from './define-event';
import { envelopeSchema } from './envelope';
import { listEventDefinitions } from './registry';

/** The Kafka topic carrying the events a service owns (message key: the run's stream id). */
/**
 * Every event travels on one Kafka topic, keyed by run (stream) id: a run's events come from several
 * services, and only a shared partition gives every consumer them in commit order.
 */
export const EVENTS_TOPIC = 'recon.events';
/** Messages a consumer could not decode or validate, with the reason in the `recon-dlq-reason` header. */
export const DEAD_LETTER_TOPIC = 'recon.dlq';
/**
 * The signed log checkpoints (libs/eventlog log-checkpoint.ts), one JSON line per message, keyed by the
 * database they sign: a copy outside PostgreSQL that a reviewer reads back (`recon audit
 * --checkpoints-from-kafka`). Not compacted and kept forever: each checkpoint links to the previous one, so
 * the audit needs every one of them, and compaction would keep only the latest per database.
 */
export const LOG_CHECKPOINTS_TOPIC = 'recon.log-checkpoints';

/** The topic the events of an owning service are published on (the same one for every owner). */
export function topicFor(_owner: ServiceName): string {
  return EVENTS_TOPIC;
}

function jsonSchema(schema: z.ZodType): Record<string, unknown> {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, {
    io: 'input',
    unrepresentable: 'any',
  }) as Record<string, unknown>;
  return rest;
}

/**
 * An AsyncAPI 3.0 document describing every topic and event schema, generated from the contracts, so a
 * service (for example a reward service) can be written in another language.
 */
export function buildAsyncApiDocument(version: string): Record<string, unknown> {
  const definitions = [...listEventDefinitions()].sort((a, b) =>
    a.type === b.type ? a.version - b.version : a.type.localeCompare(b.type),
  );
  const envelope = jsonSchema(envelopeSchema) as { properties: Record<string, unknown>; required: string[] };
  const messageName = (type: string, version: number) => `${type.replace(/\./g, '_')}_v${version}`;
  const messages: Record<string, unknown> = {};
  for (const def of definitions) {
    messages[messageName(def.type, def.version)] = {
      name: def.type,
      title: `${def.type} v${def.version}`,
      summary: def.description,
      contentType: 'application/json',
      'x-owner': def.owner,
      headers: { type: 'object', properties: { 'recon-event-type': { const: def.type } } },
      payload: {
        ...envelope,
        properties: {
          ...envelope.properties,
          type: { const: def.type },
          schemaVersion: { const: def.version },
          payload: jsonSchema(def.payload),
        },
      },
    };
  }
  const channels: Record<string, unknown> = {
    events: {
      address: EVENTS_TOPIC,
      description:
        "Every event of every run, published from the committed log by the relay. Messages are keyed by stream (run) id, so a run's events keep their commit order; the `recon-type` header names the event type so consumers can filter without decoding.",
      messages: Object.fromEntries(
        definitions.map((def) => [
          messageName(def.type, def.version),
          { $ref: `#/components/messages/${messageName(def.type, def.version)}` },
        ]),
      ),
    },
    deadLetters: {
      address: DEAD_LETTER_TOPIC,
      description:
        'Messages a consumer could not decode or validate, unchanged, with `recon-dlq-reason`, `recon-dlq-source` and `recon-dlq-group` headers.',
    },
    logCheckpoints: {
      address: LOG_CHECKPOINTS_TOPIC,
      description:
        'Signed log checkpoints (format `recon.log-checkpoint/1`), one JSON line per message keyed by the database they sign, the same lines as `$RECON_HOME/log-checkpoints.jsonl`; one partition, not compacted, kept forever (each checkpoint names the digest of the previous one).',
    },
  };
  const operations: Record<string, unknown> = {};
  for (const owner of SERVICES) {
    const owned = definitions.filter((def) => def.owner === owner);
    if (owned.length === 0) continue;
    operations[`publish${owner[0].toUpperCase()}${owner.slice(1)}Events`] = {
      action: 'send',
      channel: { $ref: '#/channels/events' },
      summary: `The ${owner} service appends these events to the log; the relay publishes them.`,
      messages: owned.map((def) => ({
        $ref: `#/channels/events/messages/${messageName(def.type, def.version)}`,
      })),
    };
  }
  return {
    asyncapi: '3.0.0',
    info: {
      title: 'Recon event protocol',
      version,
      description:
        'Every fact of a Recon run is an event in an append-only, hash-chained log; these are the topics and ' +
        'schemas services exchange. The envelope is validated at every boundary; `payloadHash` is the sha256 of ' +
        'the RFC 8785 canonical JSON of `payload`.',
    },
    defaultContentType: 'application/json',
    channels,
    operations,
    components: { messages },
  };
}

/** The document as committed in docs/asyncapi.yaml. */
export function renderAsyncApiYaml(): string {
  return `# Generated from libs/contracts by \`npm run asyncapi\`; do not edit by hand.\n${stringify(
    buildAsyncApiDocument('1'),
    { lineWidth: 0 },
  )}`;
}
