import { Counter, Gauge, type Registry } from 'prom-client';
import type { Pool } from 'pg';
import { logHeadPosition } from './event-pipeline-metrics';

/** What the relay metrics read from the log-to-Kafka relay (EventLogRelay in libs/transport). */
export interface RelayMetricsSource {
  readonly topic: string;
  /** Messages this instance has sent to Kafka since it started. */
  readonly publishedCount: number;
  /** The last global position known to be in Kafka (stored in the database, shared by every instance). */
  position(): Promise<number>;
}

/**
 * Metrics of the outbox relay, registered by the process that runs it (the api service in the distributed
 * deployment): `recon_relay_lag_events{topic}`, events committed to the log and not yet in Kafka (log head
 * minus the relay's stored position, read at scrape time, so a stand-by instance reports it too), and
 * `recon_relay_published_events_total{topic}`, messages this instance published (a tail republished after
 * a failure counts again). One topic per relay: the label is bounded by the deployment's topics.
 */
export function registerRelayMetrics(registry: Registry, pool: Pool, relay: RelayMetricsSource): void {
  const labels = { topic: relay.topic };
  new Gauge({
    name: 'recon_relay_lag_events',
    help: 'Events committed to the log but not yet relayed to Kafka',
    labelNames: ['topic'],
    registers: [registry],
    async collect() {
      const [head, relayed] = await Promise.all([logHeadPosition(pool), relay.position()]);
      this.set(labels, Math.max(0, head - relayed));
    },
  });
  let counted = 0;
  const published = new Counter({
    name: 'recon_relay_published_events_total',
    help: 'Events this relay instance published to Kafka',
    labelNames: ['topic'],
    registers: [registry],
    collect() {
      const total = relay.publishedCount;
      if (total > counted) this.inc(labels, total - counted);
      counted = total;
    },
  });
  published.inc(labels, 0);
}
