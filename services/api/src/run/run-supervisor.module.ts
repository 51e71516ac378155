import { Inject, Module, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { Platform } from '@recon/persistence';
import { EVENT_BUS, PLATFORM } from '@recon/service-kit';
import type { EventBus } from '@recon/transport';
import { RunSupervisor } from './run-supervisor';

@Module({})
export class RunSupervisorModule implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly supervisor: RunSupervisor;

  constructor(@Inject(PLATFORM) platform: Platform, @Inject(EVENT_BUS) bus: EventBus) {
    this.supervisor = new RunSupervisor({ eventStore: platform.eventStore, bus });
  }

  onApplicationBootstrap(): Promise<void> {
    return this.supervisor.start();
  }

  onApplicationShutdown(): Promise<void> {
    return this.supervisor.stop();
  }
}
