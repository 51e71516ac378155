import { Module, type DynamicModule } from '@nestjs/common';
import { hostname } from 'node:os';
import { serviceWorkers } from '@recon/service-kit';
import type { RewardDefinition } from './define-reward';
import { RewardWorker } from './reward-worker';
import { readEnvironment } from '@recon/config';

/** The reward workers of the application, provided as one list under this token. */
const REWARD_WORKERS = Symbol('recon.reward-workers');

@Module({})
class RewardWorkersHost {}

/**
 * One reward worker per definition on the event bus, for as long as the Nest application lives: they start
 * together and stop together.
 */
export function rewardWorkersModule(rewards: Array<RewardDefinition<never, never>>): DynamicModule {
  return {
    module: RewardWorkersHost,
    providers: serviceWorkers({
      provide: REWARD_WORKERS,
      create: ({ platform, bus }) => {
        const producer = {
          service: 'reward' as const,
          version: readEnvironment('npm_package_version') ?? '0.1.0',
          instance: `${hostname()}:${process.pid}`,
        };
        return rewards.map(
          (reward) =>
            new RewardWorker(reward, {
              eventStore: platform.eventStore,
              blobStore: platform.blobStore,
              bus,
              producer,
            }),
        );
      },
    }),
  };
}
