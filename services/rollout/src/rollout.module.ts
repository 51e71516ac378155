import { Inject, Module, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { Platform } from '@recon/persistence';
import { EVENT_BUS, PLATFORM } from '@recon/service-kit';
import type { EventBus } from '@recon/transport';
import { RolloutWorker } from './rollout.worker';

/** The rollout service: samples the completions training asks for. */
@Module({})
export class RolloutModule implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly worker: RolloutWorker;

  constructor(@Inject(PLATFORM) platform: Platform, @Inject(EVENT_BUS) bus: EventBus) {
    this.worker = new RolloutWorker({ eventStore: platform.eventStore, blobStore: platform.blobStore, bus });
  }

  onApplicationBootstrap(): Promise<void> {
    return this.worker.start();
  }

  onApplicationShutdown(): Promise<void> {
    return this.worker.stop();
  }
}
