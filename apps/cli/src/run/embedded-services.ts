import { Module, type DynamicModule } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { INestApplicationContext } from '@nestjs/common';
import type { Platform } from '@recon/persistence';
import { PlatformModule } from '@recon/service-kit';
import type { EventBus } from '@recon/transport';
import { selectBackend, type BackendName } from '@recon/policy';
import { rewardPluginSpecsFromEnv } from '@recon/reward-sdk';
import { DataModule } from '@recon/data';
import { EvaluationModule } from '@recon/evaluation';
import { RewardModule } from '@recon/reward';
import { RolloutModule } from '@recon/rollout';
import { TrainingModule } from '@recon/training';
import { RunSupervisorModule } from '@recon/api';

/** Every service module in one Nest application: the embedded deployment (one process, in-process bus). */
@Module({})
export class EmbeddedServicesModule {
  static forRoot(platform: Platform, bus: EventBus, rewardPlugins: string[] = []): DynamicModule {
    return {
      module: EmbeddedServicesModule,
      imports: [
        PlatformModule.forRoot(platform, bus),
        DataModule,
        TrainingModule,
        RolloutModule,
        RewardModule.forRoot([...rewardPluginSpecsFromEnv(), ...rewardPlugins]),
        EvaluationModule,
        RunSupervisorModule,
      ],
    };
  }
}

/**
 * Starts every service in this process. The numeric backend is chosen once, before any service touches a
 * tensor: tfjs keeps one backend per process, and a run's events record which one it was.
 */
export async function startEmbeddedServices(
  platform: Platform,
  bus: EventBus,
  options: { backend?: BackendName | 'auto'; rewardPlugins?: string[] } = {},
): Promise<INestApplicationContext> {
  await selectBackend(options.backend ?? 'auto');
  const app = await NestFactory.createApplicationContext(
    EmbeddedServicesModule.forRoot(platform, bus, options.rewardPlugins),
    {
      logger: ['error', 'warn'],
    },
  );
  return app;
}
