import { Controller, Get, Header, Inject } from '@nestjs/common';
import { RequireRole } from './auth';
import { SERVICE_METRICS, type ServiceMetrics } from './service-metrics';

/** Prometheus exposition; scraped with a viewer token like any other route. */
@RequireRole('viewer')
@Controller('metrics')
export class MetricsController {
  constructor(@Inject(SERVICE_METRICS) private readonly serviceMetrics: ServiceMetrics) {}

  @Get()
  @Header('Content-Type', 'text/plain; version=0.0.4; charset=utf-8')
  async metrics(): Promise<string> {
    return this.serviceMetrics.registry.metrics();
  }
}
