import { Counter, type Registry } from 'prom-client';
import type { EventBus, EventHandler } from '@recon/transport';

/** Where a pipeline error happened: a consumer's handler, or the bus itself (a consumer that crashed). */
export type PipelineErrorSite = 'handler' | 'bus';

/** A bus whose consumers are counted; a service's /metrics registry adopts its counters. */
export interface InstrumentedEventBus extends EventBus {
  /** Adds the bus's counters to a registry (a service's /metrics); once per registry. */
  registerMetrics(registry: Registry): void;
  /** Counts an error of the bus itself (the Kafka bus's onError / onConsumerCrash hooks call it). */
  busError(): void;
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
  const errors = new Counter({
    name: 'recon_pipeline_errors_total',
    help: 'Errors of event handlers and of the event bus',
    labelNames: ['where'],
    registers: [],
  });
  // Present from the first scrape, so a dashboard shows 0 rather than no data.
  errors.inc({ where: 'handler' }, 0);
  errors.inc({ where: 'bus' }, 0);
  return {
    subscribe(options, handler: EventHandler) {
      return bus.subscribe(options, async (event) => {
        try {
          await handler(event);
        } catch (error) {
          errors.inc({ where: 'handler' });
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
    busError: () => errors.inc({ where: 'bus' }),
  };
}
