import { availableParallelism } from 'node:os';

export type WorkerSetting = 'auto' | number;

/**
 * Compute workers for the policy: RECON_POLICY_WORKERS (benchmarks) over the run's `policy.workers`; `auto`
 * is one per core, at most two (the built-in policy's work splits in two: see SFT_MICRO_BATCH_SPLIT).
 */
export function resolveWorkerCount(setting: WorkerSetting = 'auto', env = process.env): number {
  const override = env.RECON_POLICY_WORKERS;
  const value: WorkerSetting = override === undefined || override === '' ? setting : parseSetting(override);
  return value === 'auto' ? Math.max(1, Math.min(2, availableParallelism())) : value;
}

function parseSetting(text: string): WorkerSetting {
  if (text === 'auto') return 'auto';
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1)
    throw new Error(`RECON_POLICY_WORKERS must be 'auto' or a positive integer, not '${text}'`);
  return n;
}
