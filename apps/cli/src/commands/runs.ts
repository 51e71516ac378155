import { Command } from 'commander';
import { RunEntity } from '@recon/persistence';
import { STALLED_AFTER_SECONDS } from '@recon/run-activity';
import { withPlatform } from '../context';
import { printRows } from '../output';
import { runsJson, runsTable } from '../run-listing';

export function runsCommand(): Command {
  const summary =
    'list training runs, external evaluations (recon eval) and distillation jobs with their status, model, ' +
    'lineage, event counts and last event';
  return new Command('runs')
    .summary(summary)
    .description(
      `${summary}. ` +
        'The status column says what an unfinished run is doing: `requested` (nothing but its request recorded), ' +
        `\`running\` (it recorded an event within the last ${STALLED_AFTER_SECONDS / 60} minutes) or \`stalled\` ` +
        '(nothing for longer, the ReconRunStalled threshold: its services stopped or it was abandoned; ' +
        '`recon resume <run>` carries it on, `recon cancel <run> --reason` ends it); `last event` is how long ago it ' +
        'recorded anything. With --json, `status` is the stored status (requested, completed, failed), `activity` ' +
        'the state the table shows and `lastEventAt` the ISO time of the last event.',
    )
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }) => {
      await withPlatform(async (platform) => {
        await platform.projections.awaitProjected();
        const runs = await platform.dataSource
          .getRepository(RunEntity)
          .find({ order: { requestedAt: 'ASC', runId: 'ASC' } });
        const now = new Date();
        const { rows, columns } = options.json
          ? { rows: runsJson(runs, now), columns: [] }
          : runsTable(runs, now);
        printRows(rows, columns, options);
      });
    });
}
