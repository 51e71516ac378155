/**
 * How long a run may record nothing before it counts as stalled: 15 minutes, the threshold of the
 * ReconRunStalled alert (deploy/base/prometheus-rules.yaml: `recon:run_seconds_since_last_event > 900`).
 */
export const STALLED_AFTER_SECONDS = 900;

/**
 * What an unfinished run is doing, as `recon runs` and the explorer show it: `requested` (nothing but its
 * request recorded yet), `running` (it recorded an event within STALLED_AFTER_SECONDS) or `stalled` (it has
 * not since). A finished run keeps its stored status.
 */
export type RunActivity = 'requested' | 'running' | 'stalled' | 'completed' | 'failed';

/** What the derivation reads of a row of the runs read model. */
export interface RunProgress {
  /** The stored lifecycle status: `requested` until the run completes or fails. */
  status: 'requested' | 'completed' | 'failed';
  /** Events in the run's stream, its request included. */
  eventCount: number;
  /** ISO 8601 time of the run's last event. */
  lastEventAt: string;
}

function epochMs(time: string, field: string): number {
  const ms = Date.parse(time);
  if (!Number.isFinite(ms)) throw new Error(`${field}: expected an ISO 8601 time, got '${time}'`);
  return ms;
}

/** The run's activity at `now`; a last event exactly STALLED_AFTER_SECONDS old is still running (the alert's `>`). */
export function runActivity(run: RunProgress, now: Date): RunActivity {
  if (run.status !== 'requested') return run.status;
  if (run.eventCount <= 1) return 'requested';
  const idleMs = now.getTime() - epochMs(run.lastEventAt, 'lastEventAt');
  return idleMs > STALLED_AFTER_SECONDS * 1000 ? 'stalled' : 'running';
}

/**
 * How long before `now` a time was, in its largest whole unit: `12s ago`, `3m ago`, `2h ago`, `4d ago`. A time
 * after `now` (another machine's clock slightly ahead) reads `0s ago`.
 */
export function timeAgo(time: string, now: Date): string {
  const seconds = Math.max(0, Math.floor((now.getTime() - epochMs(time, 'time')) / 1000));
  if (seconds < 60) return `${seconds}s ago`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m ago`;
  if (seconds < 86_400) return `${Math.floor(seconds / 3600)}h ago`;
  return `${Math.floor(seconds / 86_400)}d ago`;
}
