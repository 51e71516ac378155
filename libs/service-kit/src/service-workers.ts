import type { InjectionToken, OnApplicationBootstrap, OnApplicationShutdown, Provider } from '@nestjs/common';
import type { Platform } from '@recon/persistence';
import type { EventBus } from '@recon/transport';
import { EVENT_BUS, PLATFORM } from './tokens';

/** What a service module runs while the application lives: a worker subscribed to the bus. */
export interface ServiceWorker {
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** What every worker is built from: the opened platform (event log, blobs) and the service's bus. */
export interface WorkerHost {
  platform: Platform;
  bus: EventBus;
}

export interface WorkerDefinition<W extends ServiceWorker> {
  /** The token the worker is provided under, usually its class. */
  provide: InjectionToken;
  /** Builds the worker, or several that start together and stop together (one per reward, say). */
  create(host: WorkerHost): W | readonly W[];
}

/** Starts a module's workers on application bootstrap, in order, and stops them on shutdown, in reverse. */
class WorkerLifecycle implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(private readonly stages: ReadonlyArray<readonly ServiceWorker[]>) {}

  async onApplicationBootstrap(): Promise<void> {
    for (const stage of this.stages) await Promise.all(stage.map((worker) => worker.start()));
  }

  async onApplicationShutdown(): Promise<void> {
    for (const stage of [...this.stages].reverse()) await Promise.all(stage.map((worker) => worker.stop()));
  }
}

const isWorkerList = (built: ServiceWorker | readonly ServiceWorker[]): built is readonly ServiceWorker[] =>
  Array.isArray(built);

/**
 * The providers of a service module's workers, the one way a service module runs them: each worker built
 * from the platform and bus under its own token, and one lifecycle provider that starts them when the
 * application boots (each definition after the previous one has started) and stops them in the reverse order
 * when it shuts down (`app.close()`: SIGTERM in `recon service`, the end of `recon run`). Across modules Nest
 * keeps its own order (the modules deepest in the import graph first; stopped in the reverse order), so call
 * this once per module. A worker that fails to start fails the application's start, as any hook does.
 */
export function serviceWorkers(...definitions: Array<WorkerDefinition<ServiceWorker>>): Provider[] {
  const workers: Provider[] = definitions.map((definition) => ({
    provide: definition.provide,
    useFactory: (platform: Platform, bus: EventBus) => definition.create({ platform, bus }),
    inject: [PLATFORM, EVENT_BUS],
  }));
  const lifecycle: Provider = {
    provide: Symbol('recon.worker-lifecycle'),
    useFactory: (...built: Array<ServiceWorker | readonly ServiceWorker[]>) =>
      new WorkerLifecycle(built.map((stage) => (isWorkerList(stage) ? stage : [stage]))),
    inject: definitions.map((definition) => definition.provide),
  };
  return [...workers, lifecycle];
}
