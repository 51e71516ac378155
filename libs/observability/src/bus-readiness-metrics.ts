import { Gauge, type Registry } from 'prom-client';
import type { EventBus } from '@recon/transport';

/**
 * `recon_bus_up{dependency}`: 1 while the bus's own dependency (Kafka's brokers) answers, read at scrape time
 * through the bus's readiness check (fails fast, cached briefly). Absent for a bus that needs nothing beyond
 * the database (the in-process bus).
 */
export function registerBusReadinessMetrics(registry: Registry, bus: EventBus): void {
  const check = bus.checkReady?.bind(bus);
  if (!check) return;
  new Gauge({
    name: 'recon_bus_up',
    help: "Whether the event bus's dependency (Kafka) answers (1) or not (0)",
    labelNames: ['dependency'],
    registers: [registry],
    async collect() {
      const answer = await check();
      this.reset();
      this.set({ dependency: answer.dependency }, answer.ready ? 1 : 0);
    },
  });
}
