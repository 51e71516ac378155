import { Inject, Module, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { Platform } from '@recon/persistence';
import { EVENT_BUS, PLATFORM } from '@recon/service-kit';
import type { EventBus } from '@recon/transport';
import { EvaluationWorker } from './evaluation.worker';

/** The evaluation service: held-out problems, complete-information self-play and GTBench matches per stage. */
@Module({})
export class EvaluationModule implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly worker: EvaluationWorker;

  constructor(@Inject(PLATFORM) platform: Platform, @Inject(EVENT_BUS) bus: EventBus) {
    this.worker = new EvaluationWorker({
      eventStore: platform.eventStore,
      blobStore: platform.blobStore,
      bus,
    });
  }

  onApplicationBootstrap(): Promise<void> {
    return this.worker.start();
  }

  onApplicationShutdown(): Promise<void> {
    return this.worker.stop();
  }
}
