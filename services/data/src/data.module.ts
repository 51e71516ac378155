import { Inject, Module, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { Platform } from '@recon/persistence';
import { EVENT_BUS, PLATFORM } from '@recon/service-kit';
import type { EventBus } from '@recon/transport';
import { RunDatasetsWorker } from './run-datasets.worker';

/** The data service: resolves each requested run's datasets. */
@Module({})
export class DataModule implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly worker: RunDatasetsWorker;

  constructor(@Inject(PLATFORM) platform: Platform, @Inject(EVENT_BUS) bus: EventBus) {
    this.worker = new RunDatasetsWorker(
      { eventStore: platform.eventStore, blobStore: platform.blobStore },
      bus,
    );
  }

  onApplicationBootstrap(): Promise<void> {
    return this.worker.start();
  }

  onApplicationShutdown(): Promise<void> {
    return this.worker.stop();
  }
}
