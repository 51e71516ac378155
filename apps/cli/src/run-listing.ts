import type { RunEntity } from '@recon/persistence';
import { runActivity, timeAgo } from '@recon/run-activity';

/** `12 accepted / 3 rejected` for a distillation job that has run through its items. */
function tracesCell(run: RunEntity): string | null {
  if (run.kind !== 'distillation' || !run.summary) return null;
  return `${run.summary.accepted} accepted / ${run.summary.rejected} rejected`;
}

/** `model @ endpoint` for an external model, else the model alone (`builtin`). */
function modelCell(run: RunEntity): string | null {
  return run.baseUrl ? `${run.model} @ ${run.baseUrl}` : run.model;
}

const seedOf = (run: RunEntity) => (run.kind === 'distillation' ? null : Number(run.seed));
const parentOf = (run: RunEntity) => (run.parentRunId ? `${run.parentRunId}@${run.parentStep}` : null);

/**
 * `recon runs` for people: the status column shows what the run is doing at `now` (requested, running,
 * stalled, completed, failed) and `last event` how long ago it recorded anything.
 */
export function runsTable(
  runs: readonly RunEntity[],
  now: Date,
): { rows: Array<Record<string, unknown>>; columns: string[] } {
  const rows = runs.map((run) => ({
    run: run.runId,
    kind: run.kind,
    name: run.name,
    status: runActivity(run, now),
    events: run.eventCount,
    'last event': timeAgo(run.lastEventAt, now),
    model: modelCell(run),
    seed: seedOf(run),
    requested: run.requestedAt,
    finished: run.finishedAt,
    parent: parentOf(run),
    traces: tracesCell(run),
  }));
  const columns = ['run', 'kind', 'name', 'status', 'events', 'last event', 'model', 'seed', 'requested'];
  columns.push('finished', 'parent', ...(runs.some((run) => run.kind === 'distillation') ? ['traces'] : []));
  return { rows, columns };
}

/**
 * `recon runs --json` for scripts: `status` is the stored lifecycle status (requested, completed, failed),
 * `activity` what the run is doing at `now`, `lastEventAt` the ISO time of its last event.
 */
export function runsJson(runs: readonly RunEntity[], now: Date): Array<Record<string, unknown>> {
  return runs.map((run) => ({
    run: run.runId,
    kind: run.kind,
    name: run.name,
    status: run.status,
    activity: runActivity(run, now),
    events: run.eventCount,
    lastEventAt: run.lastEventAt,
    model: run.model,
    baseUrl: run.baseUrl,
    seed: seedOf(run),
    requested: run.requestedAt,
    finished: run.finishedAt,
    parent: parentOf(run),
    summary: run.summary,
    failure: run.failure,
    changedKeys: run.changedKeys,
  }));
}
