import { Controller, Get, Inject, ServiceUnavailableException } from '@nestjs/common';
import { SkipThrottle } from '@nestjs/throttler';
import type { Platform } from '@recon/persistence';
import type { EventBus } from '@recon/transport';
import { Public } from './auth/guard';
import { EVENT_BUS, PLATFORM } from './tokens';

/** `database: 'up'`, plus the bus's own dependency when it has one (`kafka: 'up'`). */
export type Readiness = { status: 'ok'; database: 'up' } & Record<string, string>;

/**
 * Liveness (the process answers) and readiness (its dependencies answer: PostgreSQL, and the bus's brokers
 * when the bus is Kafka). A dependency that does not answer makes readiness 503, naming it and the error.
 */
@Public()
@SkipThrottle()
@Controller('health')
export class HealthController {
  constructor(
    @Inject(PLATFORM) private readonly platform: Platform,
    @Inject(EVENT_BUS) private readonly bus: EventBus,
  ) {}

  @Get('live')
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('ready')
  async ready(): Promise<Readiness> {
    try {
      await this.platform.pool.query('SELECT 1');
    } catch (error) {
      throw new ServiceUnavailableException({ status: 'error', database: (error as Error).message });
    }
    const bus = await this.bus.checkReady?.();
    if (!bus) return { status: 'ok', database: 'up' };
    if (!bus.ready)
      throw new ServiceUnavailableException({ status: 'error', database: 'up', [bus.dependency]: bus.error });
    return { status: 'ok', database: 'up', [bus.dependency]: 'up' };
  }
}
