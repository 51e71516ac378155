import { Command } from 'commander';
import { isKnownEventType } from '@recon/contracts';
import { ContentDeletionError } from '@recon/eventlog';
import { deleteRunContent } from '@recon/persistence';
import { CliFailure, cliProducer, withPlatform } from '../context';
import { printJsonOr } from '../output';
import { cliActor } from './token';

export function deleteCommand(): Command {
  return new Command('delete')
    .description(
      "withdraw a run's content (tombstones events, removes blobs); the hash chain stays verifiable",
    )
    .argument('<run>', 'run id')
    .option('--event <id...>', 'event ids to withdraw')
    .option('--type <type...>', 'withdraw every event of these types')
    .option('--blob <hash...>', 'blob hashes to remove')
    .requiredOption('--reason <text>', 'why the content is withdrawn (recorded)')
    .option('--json', 'print JSON')
    .action(
      async (
        runId: string,
        options: { event?: string[]; type?: string[]; blob?: string[]; reason: string; json?: boolean },
      ) => {
        for (const type of options.type ?? []) {
          if (!isKnownEventType(type)) throw new CliFailure(`--type: '${type}' is not a known event type`, 2);
        }
        await withPlatform(async (platform) => {
          try {
            const result = await deleteRunContent(
              platform,
              {
                runId,
                eventIds: options.event,
                types: options.type,
                blobHashes: options.blob,
                reason: options.reason,
                actor: cliActor(),
              },
              cliProducer(),
            );
            printJsonOr(
              {
                deletionEventId: result.deletion.eventId,
                eventIds: result.eventIds,
                blobHashes: result.blobHashes,
              },
              () =>
                `withdrew ${result.eventIds.length} event(s) and ${result.blobHashes.length} blob(s) of run ${runId} ` +
                `(deletion event ${result.deletion.eventId} at position ${result.deletion.position}); read models rebuilt`,
              options,
            );
          } catch (error) {
            if (error instanceof ContentDeletionError) throw new CliFailure(error.message);
            throw error;
          }
        });
      },
    );
}
