import type { PayloadOf } from '@recon/contracts';
import type { RecordedEvent } from '@recon/eventlog';
import type { PairedDifference } from '@recon/games';
import { payloadsOf, runChanges, type ScoredItem, trainingSeries, type SeriesPoint } from '@recon/run-report';

const STAGES = ['untrained', 'sft', 'grpo', 'external'];

export interface ComparedRun {
  runId: string;
  name: string | null;
  seed: number | null;
  configHash: string | null;
  events: number;
  sft: SeriesPoint[];
  grpo: SeriesPoint[];
}

export interface RunComparison {
  runs: ComparedRun[];
  /** Config keys (dotted paths) whose values differ between the runs; `values` in run order, absent as null. */
  configDiff: Array<{ key: string; values: Array<string | null> }>;
  /** Per suite and stage, each later run against the first on the items both graded (paired). */
  changes: Array<{
    suite: string;
    baseline: string;
    runId: string;
    stage: string;
    verdict: 'exact' | 'headline';
    change: PairedDifference;
  }>;
}

/** Config leaves as dotted paths with their values as YAML-ish text (arrays as JSON). */
function leaves(value: unknown, path = '', out = new Map<string, string>()): Map<string, string> {
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    for (const [key, child] of Object.entries(value)) leaves(child, path ? `${path}.${key}` : key, out);
  } else out.set(path, typeof value === 'string' ? value : JSON.stringify(value));
  return out;
}

function configOf(events: readonly RecordedEvent[]): unknown {
  const requested = payloadsOf(events, 'run.requested')[0];
  if (requested) return { seed: requested.seed, ...(requested.config as object) };
  return payloadsOf(events, 'external.evaluation.requested')[0] ?? null;
}

const suitesOf = (events: readonly RecordedEvent[]) =>
  new Set(
    events.filter((e) => e.type === 'evaluation.item.scored').map((e) => (e.payload as ScoredItem).suite),
  );

/** Whether every item of the suite in both runs carries both graders' verdicts (then the strict one is used). */
const hasStrictVerdicts = (events: readonly RecordedEvent[], suite: string) =>
  events.every(
    (e) =>
      e.type !== 'evaluation.item.scored' ||
      (e.payload as ScoredItem).suite !== suite ||
      (e.payload as ScoredItem).verdicts !== undefined,
  );

/**
 * Two or more runs side by side: their config differences, their training curves, and each later run's paired
 * accuracy change against the first per suite and stage (Newcombe interval, exact McNemar p: stage-changes.ts).
 */
export function compareRuns(
  runs: ReadonlyArray<{ runId: string; events: readonly RecordedEvent[] }>,
): RunComparison {
  const configs = runs.map((r) => leaves(configOf(r.events)));
  const keys = [...new Set(configs.flatMap((c) => [...c.keys()]))].sort();
  const configDiff = keys
    .map((key) => ({ key, values: configs.map((c) => c.get(key) ?? null) }))
    .filter((row) => new Set(row.values).size > 1);
  const [baseline, ...others] = runs;
  const changes: RunComparison['changes'] = [];
  for (const other of others) {
    const shared = [...suitesOf(baseline.events)].filter((s) => suitesOf(other.events).has(s)).sort();
    for (const suite of shared) {
      const verdict =
        hasStrictVerdicts(baseline.events, suite) && hasStrictVerdicts(other.events, suite)
          ? 'exact'
          : 'headline';
      for (const { stage, change } of runChanges(baseline.events, other.events, suite, STAGES, verdict))
        changes.push({ suite, baseline: baseline.runId, runId: other.runId, stage, verdict, change });
    }
  }
  return {
    runs: runs.map(({ runId, events }) => {
      const requested: PayloadOf<'run.requested'> | undefined = payloadsOf(events, 'run.requested')[0];
      const { sft, grpo } = trainingSeries(events);
      return {
        runId,
        name: requested?.name ?? null,
        seed: requested?.seed ?? null,
        configHash: requested?.configHash ?? null,
        events: events.length,
        sft,
        grpo,
      };
    }),
    configDiff,
    changes,
  };
}
