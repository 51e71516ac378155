import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { ProjectionProcessor, type Platform } from '@recon/persistence';
import { rootLogger } from '@recon/logging';
import { PLATFORM } from './tokens';

/**
 * Runs the platform's ProjectionProcessor while the application runs (the api service and `recon api`):
 * one replica projects, the others stand by on its advisory lock, and reads never project.
 */
@Injectable()
export class ProjectionProcessorService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly processor: ProjectionProcessor;

  constructor(@Inject(PLATFORM) platform: Platform) {
    this.processor = new ProjectionProcessor(platform.projections, platform.databaseUrl, {
      onError: (error) => rootLogger().warn(`projection catch-up failed: ${error.message}; retrying in 1 s`),
    });
  }

  onApplicationBootstrap(): void {
    this.processor.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.processor.stop();
  }
}
