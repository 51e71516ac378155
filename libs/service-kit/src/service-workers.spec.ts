import { Module, type DynamicModule, type INestApplicationContext, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { Platform } from '@recon/persistence';
import type { EventBus } from '@recon/transport';
import { PlatformModule } from './platform.module';
import { serviceWorkers, type ServiceWorker, type WorkerHost } from './service-workers';

// What the factory hands every worker, passed through untouched (no worker here reads them).
const platform = { label: 'the platform' } as unknown as Platform;
const bus = { label: 'the bus' } as unknown as EventBus;

const log: string[] = [];
beforeEach(() => log.splice(0));

/** A worker that records when its start and stop begin and end (each takes a turn of the event loop). */
class RecordingWorker implements ServiceWorker {
  constructor(
    readonly name: string,
    readonly host: WorkerHost,
    private readonly failToStart = false,
  ) {}

  async start(): Promise<void> {
    log.push(`start ${this.name}`);
    await new Promise((resolve) => setImmediate(resolve));
    if (this.failToStart) throw new Error(`${this.name} cannot subscribe`);
    log.push(`started ${this.name}`);
  }

  async stop(): Promise<void> {
    log.push(`stop ${this.name}`);
    await new Promise((resolve) => setImmediate(resolve));
    log.push(`stopped ${this.name}`);
  }
}

const FIRST = Symbol('first');
const GROUP = Symbol('group');

function app(...modules: Array<DynamicModule | Type>): Promise<INestApplicationContext> {
  @Module({ imports: [PlatformModule.forRoot(platform, bus), ...modules] })
  class Root {}
  return NestFactory.createApplicationContext(Root, { logger: false });
}

describe('serviceWorkers: a service module runs its workers through one factory', () => {
  it('provides each worker under its token, built from the platform and the bus', async () => {
    @Module({
      providers: serviceWorkers({ provide: FIRST, create: (host) => new RecordingWorker('first', host) }),
    })
    class Service {}
    const context = await app(Service);
    const worker = context.get<RecordingWorker>(FIRST, { strict: false });
    expect(worker.host).toEqual({ platform, bus });
    expect(worker.host.platform).toBe(platform);
    expect(worker.host.bus).toBe(bus);
    await context.close();
  });

  it('starts the workers on bootstrap, each after the one before has started, and stops them in reverse', async () => {
    @Module({
      providers: serviceWorkers(
        { provide: FIRST, create: (host) => new RecordingWorker('first', host) },
        {
          provide: GROUP,
          create: (host) => [new RecordingWorker('a', host), new RecordingWorker('b', host)],
        },
      ),
    })
    class Service {}
    const context = await app(Service);
    // Not started by construction: by the application's bootstrap, which createApplicationContext runs.
    expect(log).toEqual(['start first', 'started first', 'start a', 'start b', 'started a', 'started b']);
    log.splice(0);
    await context.close();
    expect(log).toEqual(['stop a', 'stop b', 'stopped a', 'stopped b', 'stop first', 'stopped first']);
  });

  it("keeps Nest's order across modules: the deepest imports first, then siblings in import order; stops in reverse", async () => {
    const service = (name: string, imports: DynamicModule[] = []): DynamicModule => {
      @Module({})
      class Service {}
      return {
        module: Service,
        imports,
        providers: serviceWorkers({ provide: name, create: (host) => new RecordingWorker(name, host) }),
      };
    };
    // As the embedded deployment imports them: the reward workers sit one module deeper than the others.
    const context = await app(
      service('data'),
      service('training'),
      service('reward-host', [service('reward')]),
      service('evaluation'),
    );
    const starts = log.filter((line) => line.startsWith('start '));
    expect(starts).toEqual([
      'start reward',
      'start data',
      'start training',
      'start reward-host',
      'start evaluation',
    ]);
    log.splice(0);
    await context.close();
    const stops = log.filter((line) => line.startsWith('stop '));
    expect(stops).toEqual([
      'stop evaluation',
      'stop reward-host',
      'stop training',
      'stop data',
      'stop reward',
    ]);
  });

  it("fails the application's start when a worker cannot start, and starts none after it", async () => {
    @Module({
      providers: serviceWorkers(
        { provide: FIRST, create: (host) => new RecordingWorker('first', host, true) },
        { provide: GROUP, create: (host) => new RecordingWorker('second', host) },
      ),
    })
    class Service {}
    await expect(app(Service)).rejects.toThrow('first cannot subscribe');
    expect(log).toEqual(['start first']);
  });
});
