import { canonicalJson, sha256Hex, type RecordedEvent } from '@recon/eventlog';

/** Events a run's services produce from its config and seed (the request and run lifecycle aside). */
export const REPLAYED_TYPES = new Set([
  'dataset.resolved',
  'tokenizer.trained',
  'policy.initialised',
  'policy.source.resolved',
  'sft.step.completed',
  'checkpoint.saved',
  'policy.ready',
  'rollouts.requested',
  'rollout.shard.requested',
  'rollout.generated',
  'reward.scored',
  'grpo.step.completed',
  'evaluation.item.scored',
  'game.move',
  'game.finished',
  'evaluation.completed',
  'run.completed',
  'run.failed',
]);

export interface Divergence {
  position: number;
  type: string;
  /** Index of the event among the run's events of its type. */
  index: number;
  recorded: unknown;
  replayed: unknown;
  /** Paths whose values differ, e.g. `loss: 0.41 -> 0.43`. */
  differences: string[];
}

export interface ReplayComparison {
  identical: boolean;
  compared: number;
  firstDivergence: Divergence | null;
}

/**
 * A payload with the run id replaced in the ids derived from it (a `…Id` field equal to the run id or
 * starting with `<run>/`, as match ids do), so they compare across runs. Other text is left alone: a run
 * named `whole` must not turn "a whole number" in a prompt into a difference.
 */
function normalised(value: unknown, runId: string, key = ''): unknown {
  if (typeof value === 'string')
    return ID_KEY.test(key) && (value === runId || value.startsWith(`${runId}/`)) ? `<run>${value.slice(runId.length)}` : value;
  if (Array.isArray(value)) return value.map((item) => normalised(item, runId, key));
  if (value && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, normalised(v, runId, k)]));
  return value;
}

const ID_KEY = /Id$/;

function differences(a: unknown, b: unknown, path = ''): string[] {
  if (a !== undefined && b !== undefined && canonicalJson(a) === canonicalJson(b)) return [];
  if (
    a !== undefined &&
    b !== undefined &&
    a &&
    b &&
    typeof a === 'object' &&
    typeof b === 'object' &&
    Array.isArray(a) === Array.isArray(b)
  ) {
    const keys = [...new Set([...Object.keys(a as object), ...Object.keys(b as object)])].sort();
    return keys.flatMap((k) =>
      differences(
        (a as Record<string, unknown>)[k],
        (b as Record<string, unknown>)[k],
        path ? `${path}.${k}` : k,
      ),
    );
  }
  const show = (v: unknown) => (v === undefined ? '(absent)' : JSON.stringify(v).slice(0, 120));
  return [`${path || '(payload)'}: ${show(a)} -> ${show(b)}`];
}

/**
 * Compares a recorded run with its re-execution, type by type in commit order (services run concurrently,
 * so only the order within a type is a function of the config and seed). Reports the divergence that comes
 * first in the recorded run's order, with a readable diff of the two payloads.
 */
export function compareRuns(
  recorded: readonly RecordedEvent[],
  recordedRunId: string,
  replayed: readonly RecordedEvent[],
  replayedRunId: string,
): ReplayComparison {
  const byType = (events: readonly RecordedEvent[]) => {
    const map = new Map<string, RecordedEvent[]>();
    for (const e of events) if (REPLAYED_TYPES.has(e.type)) map.set(e.type, [...(map.get(e.type) ?? []), e]);
    return map;
  };
  const a = byType(recorded);
  const b = byType(replayed);
  let compared = 0;
  let first: Divergence | null = null;
  for (const type of new Set([...a.keys(), ...b.keys()])) {
    const left = a.get(type) ?? [];
    const right = b.get(type) ?? [];
    for (let i = 0; i < Math.max(left.length, right.length); i++) {
      compared++;
      const x = left[i] ? normalised(left[i].payload, recordedRunId) : undefined;
      const y = right[i] ? normalised(right[i].payload, replayedRunId) : undefined;
      if (x !== undefined && y !== undefined && sha256Hex(canonicalJson(x)) === sha256Hex(canonicalJson(y)))
        continue;
      const position = left[i]?.position ?? Number.MAX_SAFE_INTEGER;
      if (!first || position < first.position)
        first = {
          position,
          type,
          index: i,
          recorded: x ?? null,
          replayed: y ?? null,
          differences: differences(x, y),
        };
      break;
    }
  }
  return { identical: first === null, compared, firstDivergence: first };
}
