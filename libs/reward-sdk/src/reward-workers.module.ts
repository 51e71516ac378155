import {
  Inject,
  Module,
  type DynamicModule,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { hostname } from 'node:os';
import type { Platform } from '@recon/persistence';
import { EVENT_BUS, PLATFORM } from '@recon/service-kit';
import type { EventBus } from '@recon/transport';
import type { RewardDefinition } from './define-reward';
import { RewardWorker } from './reward-worker';
import { readEnvironment } from '@recon/config';

const REWARDS = Symbol('recon.rewards');

@Module({})
class RewardWorkersHost implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly workers: Array<RewardWorker<never, never>>;

  constructor(
    @Inject(PLATFORM) platform: Platform,
    @Inject(EVENT_BUS) bus: EventBus,
    @Inject(REWARDS) rewards: Array<RewardDefinition<never, never>>,
  ) {
    const producer = {
      service: 'reward' as const,
      version: readEnvironment('npm_package_version') ?? '0.1.0',
      instance: `${hostname()}:${process.pid}`,
    };
    this.workers = rewards.map(
      (reward) =>
        new RewardWorker(reward, {
          eventStore: platform.eventStore,
          blobStore: platform.blobStore,
          bus,
          producer,
        }),
    );
  }

  async onApplicationBootstrap(): Promise<void> {
    await Promise.all(this.workers.map((worker) => worker.start()));
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.all(this.workers.map((worker) => worker.stop()));
  }
}

/** One reward worker per definition on the event bus, for as long as the Nest application lives. */
export function rewardWorkersModule(rewards: Array<RewardDefinition<never, never>>): DynamicModule {
  return {
    module: RewardWorkersHost,
    providers: [{ provide: REWARDS, useValue: rewards }],
  };
}
