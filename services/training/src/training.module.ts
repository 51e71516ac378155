import { Module } from '@nestjs/common';
import { serviceWorkers } from '@recon/service-kit';
import { TrainingWorker } from './training.worker';

/** The training service: tokenizer, SFT and GRPO for every run that trains a policy (built-in or pretrained). */
@Module({
  providers: serviceWorkers({
    provide: TrainingWorker,
    create: ({ platform, bus }) =>
      new TrainingWorker({ eventStore: platform.eventStore, blobStore: platform.blobStore, bus }),
  }),
})
export class TrainingModule {}
