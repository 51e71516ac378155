import { Module } from '@nestjs/common';
import { serviceWorkers } from '@recon/service-kit';
import { RunSupervisor } from './run-supervisor';

/** The api service's run supervisor: records `run.completed` once every expected stage is evaluated. */
@Module({
  providers: serviceWorkers({
    provide: RunSupervisor,
    create: ({ platform, bus }) => new RunSupervisor({ eventStore: platform.eventStore, bus }),
  }),
})
export class RunSupervisorModule {}
