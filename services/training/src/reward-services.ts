import { REWARD_REGISTRY_STREAM, type PayloadOf } from '@recon/contracts';
import type { EventStore } from '@recon/eventlog';
import type { ExperimentConfig } from '@recon/experiment';

type Registration = PayloadOf<'reward.service.registered'>;

const POLL_MS = 250;

function satisfies(reward: ExperimentConfig['rewards'][number], registration: Registration): boolean {
  return (
    registration.rewardId === reward.id && (!reward.version || registration.rewardVersion === reward.version)
  );
}

const named = (reward: ExperimentConfig['rewards'][number]) =>
  reward.version ? `${reward.id}@${reward.version}` : reward.id;

/**
 * Waits until every reward a run names has a registered service (`reward.service.registered`), so GRPO
 * never asks for scores nobody will give. Fails after the timeout with an error naming the missing ones.
 */
export async function awaitRewardServices(
  eventStore: EventStore,
  rewards: ExperimentConfig['rewards'],
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const registered: Registration[] = [];
  let position = 0;
  for (;;) {
    const events = await eventStore.readStream(REWARD_REGISTRY_STREAM, {
      fromPosition: position + 1,
      types: ['reward.service.registered'],
    });
    for (const e of events) {
      registered.push(e.payload as Registration);
      position = e.position;
    }
    const missing = rewards.filter((reward) => !registered.some((r) => satisfies(reward, r)));
    if (missing.length === 0) return;
    if (Date.now() >= deadline) {
      const known = [...new Set(registered.map((r) => `${r.rewardId}@${r.rewardVersion}`))];
      throw new Error(
        `no reward service registered for ${missing.map(named).join(', ')} within ${Math.round(timeoutMs / 1000)} s ` +
          `(registered: ${known.join(', ') || 'none'}); start it (its own deployable, or --reward-plugin on an embedded run) ` +
          `or raise grpo.rewardWaitSeconds`,
      );
    }
    await new Promise((resolve) =>
      setTimeout(resolve, Math.min(POLL_MS, Math.max(deadline - Date.now(), 1))),
    );
  }
}
