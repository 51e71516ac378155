import { Command } from 'commander';
import { RunEntity } from '@recon/persistence';
import { withPlatform } from '../context';
import { printRows } from '../output';

/** `model @ endpoint` for an external model, else the model alone (`builtin`). */
function modelCell(run: RunEntity): string | null {
  return run.baseUrl ? `${run.model} @ ${run.baseUrl}` : run.model;
}

export function runsCommand(): Command {
  return new Command('runs')
    .description(
      'list training runs and external evaluations (recon eval) with their status, model, lineage and event counts',
    )
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }) => {
      await withPlatform(async (platform) => {
        await platform.projections.catchUp();
        const runs = await platform.dataSource
          .getRepository(RunEntity)
          .find({ order: { requestedAt: 'ASC', runId: 'ASC' } });
        printRows(
          runs.map((run) => ({
            run: run.runId,
            kind: run.kind,
            name: run.name,
            status: run.status,
            events: run.eventCount,
            ...(options.json ? { model: run.model, baseUrl: run.baseUrl } : { model: modelCell(run) }),
            seed: Number(run.seed),
            requested: run.requestedAt,
            finished: run.finishedAt,
            parent: run.parentRunId ? `${run.parentRunId}@${run.parentStep}` : null,
            ...(options.json
              ? { summary: run.summary, failure: run.failure, changedKeys: run.changedKeys }
              : {}),
          })),
          ['run', 'kind', 'name', 'status', 'events', 'model', 'seed', 'requested', 'finished', 'parent'],
          options,
        );
      });
    });
}
