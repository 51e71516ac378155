import { Registry } from 'prom-client';
import type { RecordedEvent } from '@recon/eventlog';
import { isSubscribedType, type EventBus, type EventHandler } from '@recon/transport';
import { instrumentEventBus } from './event-bus-metrics';

/** A bus that hands the test the handler each subscription registered. */
function capturingBus() {
  const handlers = new Map<string, EventHandler>();
  const bus: EventBus = {
    subscribe: async (options, handler) => {
      // Delivers what a bus would: only the subscription's types.
      handlers.set(options.group, async (e) => (isSubscribedType(options.types, e) ? handler(e) : undefined));
      return { group: options.group, stop: async () => undefined, delivers: () => true };
    },
    close: async () => undefined,
  };
  return { bus, handlers };
}

const event = (type: string) => ({ type, streamId: 'run-1', position: 1 }) as RecordedEvent;

describe('instrumentEventBus', () => {
  it('counts handled events per group and type, and failed handlers as errors', async () => {
    const registry = new Registry();
    const { bus, handlers } = capturingBus();
    const instrumented = instrumentEventBus(bus);
    instrumented.registerMetrics(registry);
    await instrumented.subscribe({ group: 'reward' }, async (e) => {
      if (e.type === 'run.failed') throw new Error('boom');
    });
    const handle = handlers.get('reward')!;
    await handle(event('rollout.generated'));
    await handle(event('rollout.generated'));
    await handle(event('run.requested'));
    await expect(handle(event('run.failed'))).rejects.toThrow('boom');
    instrumented.busError();

    const text = await registry.metrics();
    expect(text).toContain('recon_events_consumed_total{group="reward",type="rollout.generated"} 2');
    expect(text).toContain('recon_events_consumed_total{group="reward",type="run.requested"} 1');
    expect(text).not.toContain('type="run.failed"');
    expect(text).toContain('recon_pipeline_errors_total{where="handler"} 1');
    expect(text).toContain('recon_pipeline_errors_total{where="bus"} 1');
  });

  it('exports the error counters at 0 before anything happened', async () => {
    const registry = new Registry();
    instrumentEventBus(capturingBus().bus).registerMetrics(registry);
    const text = await registry.metrics();
    expect(text).toContain('recon_pipeline_errors_total{where="handler"} 0');
    expect(text).toContain('recon_pipeline_errors_total{where="bus"} 0');
  });

  it('keeps the readiness check of the bus it wraps, and has none when the bus has none', async () => {
    const { bus } = capturingBus();
    expect(instrumentEventBus(bus).checkReady).toBeUndefined();
    const ready = { ...bus, checkReady: async () => ({ dependency: 'kafka', ready: true as const }) };
    await expect(instrumentEventBus(ready).checkReady!()).resolves.toEqual({
      dependency: 'kafka',
      ready: true,
    });
  });

  it('tells when a scrape has collected the latest error, and gives up after its timeout', async () => {
    const registry = new Registry();
    const instrumented = instrumentEventBus(capturingBus().bus);
    instrumented.registerMetrics(registry);
    await expect(instrumented.errorsExported(10)).resolves.toBe(true);
    instrumented.busError();
    await expect(instrumented.errorsExported(10)).resolves.toBe(false);
    const exported = instrumented.errorsExported(60_000);
    await registry.metrics();
    await expect(exported).resolves.toBe(true);
  });
});
