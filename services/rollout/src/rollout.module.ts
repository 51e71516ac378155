import { Module } from '@nestjs/common';
import { serviceWorkers } from '@recon/service-kit';
import { RolloutWorker } from './rollout.worker';

/** The rollout service: samples the completions training asks for. */
@Module({
  providers: serviceWorkers({
    provide: RolloutWorker,
    create: ({ platform, bus }) =>
      new RolloutWorker({ eventStore: platform.eventStore, blobStore: platform.blobStore, bus }),
  }),
})
export class RolloutModule {}
