import { Module } from '@nestjs/common';
import { serviceWorkers } from '@recon/service-kit';
import { RunDatasetsWorker } from './run-datasets.worker';

/** The data service: resolves each requested run's datasets. */
@Module({
  providers: serviceWorkers({
    provide: RunDatasetsWorker,
    create: ({ platform, bus }) =>
      new RunDatasetsWorker({ eventStore: platform.eventStore, blobStore: platform.blobStore }, bus),
  }),
})
export class DataModule {}
