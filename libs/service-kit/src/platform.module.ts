import { Global, Module, type DynamicModule } from '@nestjs/common';
import type { Platform } from '@recon/persistence';
import type { EventBus } from '@recon/transport';
import { EVENT_BUS, PLATFORM } from './tokens';

/** Provides the opened platform (event log, blobs, read models) and the event bus to every service module. */
@Global()
@Module({})
export class PlatformModule {
  static forRoot(platform: Platform, bus: EventBus): DynamicModule {
    return {
      module: PlatformModule,
      providers: [
        { provide: PLATFORM, useValue: platform },
        { provide: EVENT_BUS, useValue: bus },
      ],
      exports: [PLATFORM, EVENT_BUS],
    };
  }
}
