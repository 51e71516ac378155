import { Module, type DynamicModule } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { ThrottlerGuard } from '@nestjs/throttler';
import {
  authFailureLimiterProvider,
  authFailuresPerMinuteFromEnv,
  BearerTokenGuard,
  HealthController,
  MetricsModule,
  ProjectionProcessorService,
  rateLimitModule,
  requestsPerMinuteFromEnv,
  type ServiceMetricsOptions,
} from '@recon/service-kit';
import { ClientErrorAnswerer } from './client-error';
import { CompareController } from '../explorer/compare.controller';
import { ExplorerAssetsController } from '../explorer/explorer-assets.controller';
import { LiveRunsController } from '../explorer/live-runs.controller';
import { ReplayVerifications } from '../explorer/replay-verifications';
import { RunViewController } from '../explorer/run-view.controller';
import { RunsController } from './runs.controller';

export interface ApiOptions {
  /** Requests per minute per API token (RECON_RATE_LIMIT_PER_MINUTE, default 600). */
  requestsPerMinute?: number;
  /** Refused tokens per minute per client address (RECON_AUTH_FAILURES_PER_MINUTE, default 30). */
  authFailuresPerMinute?: number;
  /** What /metrics exports: the event-pipeline gauges by default; `recon service api` adds run and relay metrics. */
  metrics?: ServiceMetricsOptions;
}

/**
 * The HTTP gateway: authentication first (a client address with too many refused tokens is answered 429),
 * then the per-token rate limit, then the routes; requests Node's HTTP parser refuses get a JSON error too.
 * Its routes take no request body: create the app with createServiceApp, which parses none.
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
      controllers: [
        HealthController,
        RunsController,
        RunViewController,
        CompareController,
        LiveRunsController,
        ExplorerAssetsController,
      ],
      providers: [
        { provide: APP_GUARD, useClass: BearerTokenGuard },
        { provide: APP_GUARD, useClass: ThrottlerGuard },
        authFailureLimiterProvider(options.authFailuresPerMinute ?? authFailuresPerMinuteFromEnv()),
        ClientErrorAnswerer,
        // `recon replay --verify` started from the explorer's audit page.
        ReplayVerifications,
        // The read models are kept current here, continuously; reads only wait for them.
        ProjectionProcessorService,
      ],
    };
  }
}
