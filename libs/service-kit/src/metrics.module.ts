import { Module, type DynamicModule } from '@nestjs/common';
import { isInstrumentedEventBus, registerBusReadinessMetrics } from '@recon/observability';
import type { Platform } from '@recon/persistence';
import type { EventBus } from '@recon/transport';
import { MetricsController } from './metrics.controller';
import { RunMetricsFollower } from './run-metrics.follower';
import { SERVICE_METRICS, createServiceMetrics, type ServiceMetricsOptions } from './service-metrics';
import { EVENT_BUS, PLATFORM } from './tokens';

/** A service's /metrics (viewer token) and the registry behind it, exported for the service's own metrics. */
@Module({})
export class MetricsModule {
  static forRoot(options: ServiceMetricsOptions = {}): DynamicModule {
    return {
      module: MetricsModule,
      controllers: [MetricsController],
      providers: [
        {
          provide: SERVICE_METRICS,
          useFactory: (platform: Platform, bus: EventBus | undefined) => {
            const metrics = createServiceMetrics(platform, options);
            // What this process's consumer groups handled (hostService instruments the service's bus).
            if (bus && isInstrumentedEventBus(bus)) bus.registerMetrics(metrics.registry);
            // Once per deployment, beside the event-pipeline gauges: whether Kafka answers (ReconKafkaDown).
            if (bus && options.eventPipeline) registerBusReadinessMetrics(metrics.registry, bus);
            return metrics;
          },
          inject: [PLATFORM, { token: EVENT_BUS, optional: true }],
        },
        ...(options.runMetrics ? [RunMetricsFollower] : []),
      ],
      exports: [SERVICE_METRICS],
    };
  }
}
