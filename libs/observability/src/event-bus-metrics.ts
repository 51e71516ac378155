import { Counter, type Registry } from 'prom-client';
import type { EventType } from '@recon/contracts';
import type { RecordedEvent } from '@recon/eventlog';
import type { EventBus, EventHandler, SubscribeOptions } from '@recon/transport';

/** Where a pipeline error happened: a consumer's handler, or the bus itself (a consumer that crashed). */
export type PipelineErrorSite = 'handler' | 'bus';

/** A bus whose consumers are counted; a service's /metrics registry adopts its counters. */
export interface InstrumentedEventBus extends EventBus {
  /** Adds the bus's counters to a registry (a service's /metrics); once per registry. */
  registerMetrics(registry: Registry): void;
  /** Counts an error of the bus itself (a consumer that crashed, a read of the log that failed). */
  busError(): void;
  /**
   * Resolves true once a scrape has collected the error counter after its latest increment (false after
   * `timeoutMs`): a process about to exit on an error waits for it, so the error reaches Prometheus.
   */
  errorsExported(timeoutMs: number): Promise<boolean>;
}

export function isInstrumentedEventBus(bus: EventBus): bus is InstrumentedEventBus {
  return typeof (bus as Partial<InstrumentedEventBus>).registerMetrics === 'function';
}

/**
 * The bus with every event its consumers handled counted per consumer group and event type
 * (`recon_events_consumed_total`), and every failure (`recon_pipeline_errors_total{where}`); it delivers
 * exactly as `bus` does. Each service process exports its own groups: a group's members share the work, so
 * a sum over processes is the group's total, with no duplicates. Labels are closed sets (the services'
 * groups, the contracts' event types).
 */
export function instrumentEventBus(bus: EventBus): InstrumentedEventBus {
  // In no registry yet: the service's registry is made later, by its metrics module, and adopts them.
  const consumed = new Counter({
    name: 'recon_events_consumed_total',
    help: 'Events handled by this process, per consumer group and event type',
    labelNames: ['group', 'type'],
    registers: [],
  });
  let counted = 0;
  let exported = 0;
  const waiting = new Set<() => void>();
  const errors = new Counter({
    name: 'recon_pipeline_errors_total',
    help: 'Errors of event handlers and of the event bus',
    labelNames: ['where'],
    registers: [],
    // Called by each scrape just before the values are written out.
    collect() {
      exported = counted;
      for (const done of waiting) done();
    },
  });
  const countError = (where: PipelineErrorSite) => {
    counted += 1;
    errors.inc({ where });
  };
  // Present from the first scrape, so a dashboard shows 0 rather than no data.
  errors.inc({ where: 'handler' }, 0);
  errors.inc({ where: 'bus' }, 0);
  return {
    subscribe<T extends EventType>(options: SubscribeOptions<T>, handler: EventHandler<T>) {
      return bus.subscribe(options, async (event: RecordedEvent<T>) => {
        try {
          await handler(event);
        } catch (error) {
          countError('handler');
          throw error;
        }
        consumed.inc({ group: options.group, type: event.type });
      });
    },
    ...(bus.checkReady ? { checkReady: () => bus.checkReady!() } : {}),
    close: () => bus.close(),
    registerMetrics(registry) {
      registry.registerMetric(consumed);
      registry.registerMetric(errors);
    },
    busError: () => countError('bus'),
    errorsExported(timeoutMs) {
      if (exported >= counted) return Promise.resolve(true);
      return new Promise((resolve) => {
        const finish = (value: boolean) => {
          clearTimeout(timer);
          waiting.delete(done);
          resolve(value);
        };
        const done = () => finish(true);
        const timer = setTimeout(() => finish(false), timeoutMs);
        waiting.add(done);
      });
    },
  };
}
