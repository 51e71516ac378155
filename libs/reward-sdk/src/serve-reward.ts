import { openPlatform } from '@recon/persistence';
import { hostService } from '@recon/service-kit';
import type { RewardDefinition } from './define-reward';
import { rewardWorkersModule } from './reward-workers.module';
import { readEnvironment } from '@recon/config';
import { rootLogger } from '@recon/logging';

/**
 * The whole main of a reward service deployable: opens the platform (DATABASE_URL; migrations must have
 * run), consumes from Kafka when KAFKA_BROKERS is set (else tails the log in-process), serves
 * /health/live, /health/ready and /metrics on PORT (default 3000), and stops on SIGTERM or SIGINT.
 */
export async function serveReward(
  rewards: Array<RewardDefinition<never, never>>,
  options: { name?: string; port?: number; host?: string } = {},
): Promise<void> {
  const name = options.name ?? `reward-${rewards.map((r) => r.id).join('-')}`;
  const platform = await openPlatform({ migrations: 'check' });
  const controller = new AbortController();
  const stop = () => controller.abort();
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  try {
    await hostService({
      name,
      platform,
      signal: controller.signal,
      port: options.port ?? Number(readEnvironment('PORT') ?? 3000),
      host: options.host ?? readEnvironment('HOST') ?? '0.0.0.0',
      modules: [rewardWorkersModule(rewards)],
    });
  } finally {
    process.off('SIGTERM', stop);
    process.off('SIGINT', stop);
    await platform.close();
  }
}

/** Runs serveReward as a process's main: a failure is logged (fatal) and exits with status 1. */
export function runRewardService(rewards: Array<RewardDefinition<never, never>>): void {
  serveReward(rewards).then(
    () => process.exit(0),
    (error: unknown) => {
      rootLogger().fatal({ err: error }, `reward service failed: ${(error as Error).message}`);
      process.exit(1);
    },
  );
}
