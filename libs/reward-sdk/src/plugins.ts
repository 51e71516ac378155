import { resolve } from 'node:path';
import type { RewardDefinition } from './define-reward';
import { readEnvironment } from '@recon/config';

type AnyReward = RewardDefinition<never, never>;

function isRewardDefinition(value: unknown): value is AnyReward {
  const v = value as Partial<AnyReward> | null;
  return (
    typeof v === 'object' &&
    v !== null &&
    typeof v.id === 'string' &&
    typeof v.version === 'string' &&
    typeof v.score === 'function'
  );
}

/**
 * Loads reward plug-ins: each spec is a path (relative to the working directory) or a package name of a
 * compiled module whose exports include reward definitions (`defineReward`). A reward is added to an
 * embedded run this way without editing any service; distributed, it runs as its own deployable.
 */
export function loadRewardPlugins(specs: string[]): AnyReward[] {
  const rewards: AnyReward[] = [];
  for (const spec of specs) {
    let exported: Record<string, unknown>;
    try {
      const target =
        spec.startsWith('.') || spec.startsWith('/') || spec.includes('/') ? resolve(spec) : spec;
      // A plug-in is a path known only at run time, loaded synchronously while Nest modules are assembled.
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      exported = require(target) as Record<string, unknown>;
    } catch (error) {
      throw new Error(`reward plugin '${spec}': cannot load it (${(error as Error).message.split('\n')[0]})`);
    }
    const found = Object.values(exported).filter(isRewardDefinition);
    if (found.length === 0)
      throw new Error(
        `reward plugin '${spec}': its module exports no reward definition (made with defineReward)`,
      );
    rewards.push(...found);
  }
  return rewards;
}

/** RECON_REWARD_PLUGINS: comma-separated plug-in specs the reward service loads next to its built-ins. */
export function rewardPluginSpecsFromEnv(): string[] {
  return (readEnvironment('RECON_REWARD_PLUGINS') ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/** Rejects two definitions of one reward id and version (two plug-ins, or a plug-in and a built-in). */
export function distinctRewards(rewards: AnyReward[]): AnyReward[] {
  const seen = new Map<string, AnyReward>();
  for (const reward of rewards) {
    const key = `${reward.id}@${reward.version}`;
    const earlier = seen.get(key);
    if (earlier && earlier !== reward)
      throw new Error(`reward ${key} is defined twice (check the reward plug-ins)`);
    seen.set(key, reward);
  }
  return [...seen.values()];
}
