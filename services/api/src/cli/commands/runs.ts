import { Command } from 'commander';
import { RunEntity } from '@recon/persistence';
import { withPlatform } from '../context';
import { printRows } from '../output';

export function runsCommand(): Command {
  return new Command('runs')
    .description('list runs with their status, lineage and event counts')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }) => {
      await withPlatform(async (platform) => {
        await platform.projections.catchUp();
        const runs = await platform.dataSource
          .getRepository(RunEntity)
          .find({ order: { requestedAt: 'ASC' } });
        printRows(
          runs.map((run) => ({
            run: run.runId,
            name: run.name,
            status: run.status,
            events: run.eventCount,
            seed: Number(run.seed),
            requested: run.requestedAt,
            finished: run.finishedAt,
            parent: run.parentRunId ? `${run.parentRunId}@${run.parentStep}` : null,
            ...(options.json
              ? { summary: run.summary, failure: run.failure, changedKeys: run.changedKeys }
              : {}),
          })),
          ['run', 'name', 'status', 'events', 'seed', 'requested', 'finished', 'parent'],
          options,
        );
      });
    });
}
