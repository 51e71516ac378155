import { SERVICES, listEventDefinitions, streamKindOf, type EventDefinition } from '@recon/contracts';
import { code, escapeText, generatedNotice, table } from './markdown';

/**
 * docs/events.md: every event type of libs/contracts, grouped by the service that owns (appends) it, with its
 * schema versions and what its latest version records. The payload schemas themselves are in
 * docs/asyncapi.yaml.
 */
export function renderEventCatalogue(): string {
  const byType = new Map<string, EventDefinition[]>();
  for (const definition of listEventDefinitions())
    byType.set(definition.type, [...(byType.get(definition.type) ?? []), definition]);
  const types = [...byType.entries()].map(([type, versions]) => {
    const sorted = [...versions].sort((a, b) => a.version - b.version);
    return { type, versions: sorted, latest: sorted[sorted.length - 1] };
  });
  const sections = SERVICES.map((owner) => {
    const owned = types.filter((t) => t.latest.owner === owner).sort((a, b) => a.type.localeCompare(b.type));
    if (owned.length === 0) return '';
    return [
      `## ${owner}`,
      '',
      table(
        ['event', 'versions', 'opens a stream of kind', 'what it records (latest version)'],
        owned.map(({ type, versions, latest }) => [
          code(type),
          versions.map((v) => `v${v.version}`).join(', '),
          streamKindOf(type) === 'other' ? '' : code(streamKindOf(type)),
          escapeText(latest.description),
        ]),
      ),
      '',
    ].join('\n');
  });
  return [
    generatedNotice('the event registry (`listEventDefinitions()` in libs/contracts)'),
    '',
    '# Event catalogue',
    '',
    `Every event type the platform records (${types.length} types, ${listEventDefinitions().length} type versions), by the`,
    'service that owns it: only the owner appends it, every boundary validates it against its zod schema, and',
    'a new schema version never replaces an old one (recorded events stay readable). Payload schemas, envelope',
    'and topics: [asyncapi.yaml](asyncapi.yaml). Who reacts to what, in order: [architecture.md](architecture.md).',
    '',
    ...sections,
  ].join('\n');
}
