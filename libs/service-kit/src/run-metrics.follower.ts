import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { followRunMetrics } from '@recon/observability';
import type { EventBus } from '@recon/transport';
import { SERVICE_METRICS, type ServiceMetrics } from './service-metrics';
import { EVENT_BUS } from './tokens';

/** The consumer group that keeps a service's run metrics current (its own: it never delays the workers). */
export const RUN_METRICS_GROUP = 'run-metrics';

/** Follows the run events on the service's bus and records them into its run metrics while it runs. */
@Injectable()
export class RunMetricsFollower implements OnApplicationBootstrap, OnApplicationShutdown {
  private consumer: { stop(): Promise<void> } | null = null;

  constructor(
    @Inject(EVENT_BUS) private readonly bus: EventBus,
    @Inject(SERVICE_METRICS) private readonly metrics: ServiceMetrics,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (this.metrics.run)
      this.consumer = await followRunMetrics(this.bus, this.metrics.run, RUN_METRICS_GROUP);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.consumer?.stop();
    this.consumer = null;
  }
}
