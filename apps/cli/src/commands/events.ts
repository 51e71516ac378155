import { Command } from 'commander';
import { subscribeAll, type RecordedEvent } from '@recon/eventlog';
import { isKnownEventType } from '@recon/contracts';
import { CliFailure, withPlatform } from '../context';
import { printRows, truncate } from '../output';

const COLUMNS = ['position', 'type', 'occurredAt', 'producer', 'payload'];

function toRow(event: RecordedEvent, json: boolean): Record<string, unknown> {
  if (json) return event;
  return {
    position: event.position,
    type: event.type,
    occurredAt: event.occurredAt,
    producer: `${event.producer.service}@${event.producer.instance}`,
    payload: truncate(JSON.stringify(event.payload), 100),
  };
}

export function eventsCommand(): Command {
  return new Command('events')
    .description("print a run's events in order")
    .argument('<run>', 'run id')
    .option('--type <type...>', 'only events of these types')
    .option('--follow', 'keep printing new events as they are committed (Ctrl-C to stop)')
    .option('--json', 'print JSON (with --follow: one JSON object per line)')
    .action(async (runId: string, options: { type?: string[]; follow?: boolean; json?: boolean }) => {
      for (const type of options.type ?? []) {
        if (!isKnownEventType(type)) throw new CliFailure(`--type: '${type}' is not a known event type`, 2);
      }
      await withPlatform(async (platform, signal) => {
        const wanted = (event: RecordedEvent) => !options.type || options.type.includes(event.type);
        const events = (await platform.eventStore.readStream(runId, { types: options.type })).filter(wanted);
        if (!options.follow) {
          if (events.length === 0 && (await platform.eventStore.streamVersion(runId)) === 0) {
            throw new CliFailure(`run '${runId}' has no events`);
          }
          printRows(
            events.map((e) => toRow(e, Boolean(options.json))),
            COLUMNS,
            options,
          );
          return;
        }
        const print = (event: RecordedEvent) =>
          process.stdout.write(
            options.json
              ? `${JSON.stringify(event)}\n`
              : `${event.position}\t${event.type}\t${event.occurredAt}\t${truncate(JSON.stringify(event.payload), 120)}\n`,
          );
        events.forEach(print);
        const after = events.length > 0 ? events[events.length - 1].globalPosition : 0;
        await subscribeAll(
          platform.eventStore,
          platform.pool,
          async (batch) => batch.filter((e) => e.streamId === runId && wanted(e)).forEach(print),
          { after, signal },
        );
      });
    });
}
