import { Module, type DynamicModule } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { ThrottlerGuard } from '@nestjs/throttler';
import {
  BearerTokenGuard,
  HealthController,
  MetricsModule,
  rateLimitModule,
  requestsPerMinuteFromEnv,
  type ServiceMetricsOptions,
} from '@recon/service-kit';
import { ClientErrorAnswerer } from './client-error';
import { RunsController } from './runs.controller';

export interface ApiOptions {
  /** Requests per minute per API token (RECON_RATE_LIMIT_PER_MINUTE, default 600). */
  requestsPerMinute?: number;
  /** What /metrics exports: the event-pipeline gauges by default; `recon service api` adds run and relay metrics. */
  metrics?: ServiceMetricsOptions;
}

/**
 * The HTTP gateway: authentication first, then the per-token rate limit, then the routes; requests Node's HTTP
 * parser refuses get a JSON error too.
 */
@Module({})
export class ApiModule {
  static forRoot(options: ApiOptions = {}): DynamicModule {
    return {
      module: ApiModule,
      imports: [
        rateLimitModule(options.requestsPerMinute ?? requestsPerMinuteFromEnv()),
        MetricsModule.forRoot(options.metrics ?? { eventPipeline: true }),
      ],
      controllers: [HealthController, RunsController],
      providers: [
        { provide: APP_GUARD, useClass: BearerTokenGuard },
        { provide: APP_GUARD, useClass: ThrottlerGuard },
        ClientErrorAnswerer,
      ],
    };
  }
}
