import { Module } from '@nestjs/common';
import { serviceWorkers } from '@recon/service-kit';
import { EvaluationWorker } from './evaluation.worker';

/** The evaluation service: held-out problems, complete-information self-play and GTBench matches per stage. */
@Module({
  providers: serviceWorkers({
    provide: EvaluationWorker,
    create: ({ platform, bus }) =>
      new EvaluationWorker({ eventStore: platform.eventStore, blobStore: platform.blobStore, bus }),
  }),
})
export class EvaluationModule {}
