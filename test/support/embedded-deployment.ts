import type { INestApplicationContext } from '@nestjs/common';
import type { ExperimentConfig } from '@recon/experiment';
import { instrumentEventBus } from '@recon/observability';
import { InProcessEventBus, type EventBus } from '@recon/transport';
import { startEmbeddedServices } from '../../apps/cli/src/run/embedded-services';
import { watchRun, type RunOutcome } from '../../apps/cli/src/run/watch-run';
import { createTestPlatform, type TestPlatform } from './platform';
import { requestTestRun } from './run-events';

/** The embedded deployment on a fresh test database: the in-process bus and every service, on wasm. */
export interface EmbeddedDeployment {
  platform: TestPlatform;
  bus: EventBus;
  services: INestApplicationContext;
  /** The first handler failure the bus reported, if any (a failed group stops there). */
  failure(): Error | null;
  /** Stops the services, then the bus, then closes the platform. */
  close(): Promise<void>;
}

export async function startEmbeddedDeployment(
  options: { /** With the bus counters a run process exports. */ instrumented?: boolean } = {},
): Promise<EmbeddedDeployment> {
  const platform = await createTestPlatform();
  let failure: Error | null = null;
  const inProcess = new InProcessEventBus(platform.eventStore, platform.pool, {
    onError: (e) => (failure = e),
    pollMs: 50,
  });
  const bus = options.instrumented ? instrumentEventBus(inProcess) : inProcess;
  const services = await startEmbeddedServices(platform, bus, { backend: 'wasm' });
  return {
    platform,
    bus,
    services,
    failure: () => failure,
    close: async () => {
      await services.close();
      await bus.close();
      await platform.close();
    },
  };
}

/**
 * Requests the run and follows it to `run.completed` or `run.failed` (a handler failure of the bus ends it
 * too); with `timeoutMs`, gives up after that long.
 */
export async function runToEnd(
  deployment: EmbeddedDeployment,
  runId: string,
  experiment: ExperimentConfig,
  options: { timeoutMs?: number } = {},
): Promise<RunOutcome> {
  await requestTestRun(deployment.platform.eventStore, runId, experiment);
  const controller = new AbortController();
  const timer = options.timeoutMs ? setTimeout(() => controller.abort(), options.timeoutMs) : undefined;
  try {
    return await watchRun(deployment.platform.eventStore, runId, experiment, {
      signal: controller.signal,
      progress: false,
      failure: deployment.failure,
      pollMs: 100,
    });
  } finally {
    clearTimeout(timer);
  }
}
