import { Command } from 'commander';
import { RunEntity } from '@recon/persistence';
import { withPlatform } from '../context';
import { printRows } from '../output';

/** `12 accepted / 3 rejected` for a distillation job that has run through its items. */
function tracesCell(run: RunEntity): string | null {
  if (run.kind !== 'distillation' || !run.summary) return null;
  return `${run.summary.accepted} accepted / ${run.summary.rejected} rejected`;
}

/** `model @ endpoint` for an external model, else the model alone (`builtin`). */
function modelCell(run: RunEntity): string | null {
  return run.baseUrl ? `${run.model} @ ${run.baseUrl}` : run.model;
}

export function runsCommand(): Command {
  return new Command('runs')
    .description(
      'list training runs, external evaluations (recon eval) and distillation jobs with their status, model, lineage and event counts',
    )
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }) => {
      await withPlatform(async (platform) => {
        await platform.projections.awaitProjected();
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
            seed: run.kind === 'distillation' ? null : Number(run.seed),
            requested: run.requestedAt,
            finished: run.finishedAt,
            parent: run.parentRunId ? `${run.parentRunId}@${run.parentStep}` : null,
            ...(options.json ? {} : { traces: tracesCell(run) }),
            ...(options.json
              ? { summary: run.summary, failure: run.failure, changedKeys: run.changedKeys }
              : {}),
          })),
          [
            'run',
            'kind',
            'name',
            'status',
            'events',
            'model',
            'seed',
            'requested',
            'finished',
            'parent',
            ...(runs.some((run) => run.kind === 'distillation') ? ['traces'] : []),
          ],
          options,
        );
      });
    });
}
