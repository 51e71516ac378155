import { Inject, Module, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { Platform } from '@recon/persistence';
import { EVENT_BUS, PLATFORM } from '@recon/service-kit';
import type { EventBus } from '@recon/transport';
import { TrainingWorker } from './training.worker';

/** The training service: tokenizer, SFT and GRPO for every run with a built-in policy. */
@Module({})
export class TrainingModule implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly worker: TrainingWorker;

  constructor(@Inject(PLATFORM) platform: Platform, @Inject(EVENT_BUS) bus: EventBus) {
    this.worker = new TrainingWorker({ eventStore: platform.eventStore, blobStore: platform.blobStore, bus });
  }

  onApplicationBootstrap(): Promise<void> {
    return this.worker.start();
  }

  onApplicationShutdown(): Promise<void> {
    return this.worker.stop();
  }
}
