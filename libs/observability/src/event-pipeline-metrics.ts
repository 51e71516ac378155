import { Gauge, type Registry } from 'prom-client';
import type { Pool } from 'pg';

/**
 * Event-pipeline gauges read from the log at scrape time, so they are right whichever process appended or
 * consumed: events per type (a closed set), streams, the log head, projection lag and, unless
 * `consumerLag` is 'kafka' (registerKafkaConsumerLag reports it then), the in-process bus's consumer lag per
 * group (bounded by the deployment's consumer groups).
 */
export function registerEventPipelineMetrics(
  registry: Registry,
  pool: Pool,
  { consumerLag = 'log' }: { consumerLag?: 'log' | 'kafka' } = {},
): void {
  new Gauge({
    name: 'recon_log_events',
    help: 'Events in the log, by event type',
    labelNames: ['type'],
    registers: [registry],
    async collect() {
      const rows = (
        await pool.query<{ type: string; n: string }>(
          'SELECT type, count(*) AS n FROM recon_events GROUP BY type',
        )
      ).rows;
      this.reset();
      for (const row of rows) this.set({ type: row.type }, Number(row.n));
    },
  });
  new Gauge({
    name: 'recon_log_streams',
    help: 'Streams (runs and platform streams) in the log',
    registers: [registry],
    async collect() {
      this.set(
        Number((await pool.query<{ n: string }>('SELECT count(*) AS n FROM recon_streams')).rows[0].n),
      );
    },
  });
  new Gauge({
    name: 'recon_log_head_position',
    help: 'Global position of the last committed event',
    registers: [registry],
    async collect() {
      this.set(await logHeadPosition(pool));
    },
  });
  lagGauge(
    registry,
    pool,
    'recon_projection_lag_events',
    'Committed events a projector has not applied yet',
    'projector',
    'projection_checkpoints',
    'projector',
  );
  if (consumerLag === 'log')
    lagGauge(
      registry,
      pool,
      'recon_consumer_lag_events',
      'Committed events a consumer group has not handled yet',
      'group',
      'consumer_offsets',
      'consumer_group',
      // In-process groups only: the Kafka bus's per-partition handled positions (group@topic[p]) and the
      // relay's position (relay@topic) are dedupe marks, not what is left to read.
      "t.consumer_group NOT LIKE '%@%'",
    );
}

/** Global position of the last committed event (0 for an empty log). */
export async function logHeadPosition(pool: Pool): Promise<number> {
  return Number(
    (await pool.query<{ p: string }>('SELECT global_position AS p FROM recon_log_head')).rows[0]?.p ?? 0,
  );
}

/** Lag behind the log head of each position a table records (one series per row). */
function lagGauge(
  registry: Registry,
  pool: Pool,
  name: string,
  help: string,
  label: string,
  table: string,
  keyColumn: string,
  where = 'true',
): void {
  new Gauge({
    name,
    help,
    labelNames: [label],
    registers: [registry],
    async collect() {
      const rows = (
        await pool.query<{ key: string; lag: string }>(
          `SELECT t.${keyColumn} AS key, h.global_position - t.global_position AS lag FROM ${table} t CROSS JOIN recon_log_head h WHERE ${where}`,
        )
      ).rows;
      this.reset();
      for (const row of rows) this.set({ [label]: row.key }, Number(row.lag));
    },
  });
}
