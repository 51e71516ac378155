import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { Registry } from 'prom-client';
import {
  registerBusReadinessMetrics,
  registerEventPipelineMetrics,
  registerKafkaConsumerLag,
} from '@recon/observability';
import { EventLogRelay, KafkaEventBus } from '@recon/transport';
import { openKafkaTestBed, runFailed, type KafkaTestBed } from '../support/kafka';
import { freePort, startPrometheus, waitFor, type RunningPrometheus } from '../support/prometheus';
import { syntheticRunEvents } from '../support/synthetic-run';

jest.setTimeout(180_000);

describe('consumer lag over Kafka, scraped by a real Prometheus', () => {
  let bed: KafkaTestBed;
  let prometheus: RunningPrometheus | null = null;
  let server: Server | null = null;
  const cleanups: Array<() => Promise<unknown>> = [];
  const namespace = `lag${randomBytes(3).toString('hex')}`;
  const topic = `${namespace}.recon.events`;

  beforeAll(async () => {
    bed = await openKafkaTestBed();
  });
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
    await prometheus?.stop();
    if (server) await new Promise((r) => server!.close(r));
    await bed?.close([topic, `${topic}.dlq`]);
  });

  it('returns to 0 for every group once the run is handled, including partitions a group has no work on', async () => {
    const { platform, kafka, append } = bed;
    // Runs spread over four partitions; the typed group wants only run.failed, which only one run has.
    for (let i = 0; i < 6; i += 1)
      await append(`lag-run-${i}`, syntheticRunEvents(`lag-run-${i}`, { sftSteps: 2, grpoSteps: 1 }));
    await append('lag-failed', [runFailed(1)]);
    const relay = new EventLogRelay(platform.eventStore, platform.pool, kafka, {
      topic,
      dlqTopic: `${topic}.dlq`,
      partitions: 4,
      pollMs: 20,
      retryMs: 100,
    });
    const bus = new KafkaEventBus(kafka, {
      pool: platform.pool,
      topic,
      dlqTopic: `${topic}.dlq`,
      groupPrefix: `${namespace}.`,
      partitions: 4,
      commitIntervalMs: 500,
    });
    const handled = { all: 0, typed: 0 };
    cleanups.push(
      () => relay.stop(),
      () => bus.close(),
    );
    await relay.start();
    await bus.subscribe({ group: 'all' }, async () => void (handled.all += 1));
    await bus.subscribe({ group: 'typed', types: ['run.failed'] }, async () => void (handled.typed += 1));
    const head = await platform.eventStore.headPosition();
    await waitFor('every event handled', async () =>
      handled.all === head && handled.typed === 1 ? true : undefined,
    );

    const registry = new Registry();
    registerEventPipelineMetrics(registry, platform.pool, { consumerLag: 'kafka' });
    const admin = kafka.admin();
    cleanups.push(() => admin.disconnect());
    registerKafkaConsumerLag(registry, { admin, topic, groupPrefix: `${namespace}.` });
    const probeBus = new KafkaEventBus(kafka, { pool: platform.pool, topic });
    cleanups.push(() => probeBus.close());
    registerBusReadinessMetrics(registry, probeBus);
    const port = await freePort();
    server = createServer((_q, response) => {
      void registry.metrics().then(
        (text) => response.writeHead(200, { 'Content-Type': registry.contentType }).end(text),
        (error: Error) => response.writeHead(500).end(error.message),
      );
    });
    await new Promise<void>((r) => server!.listen(port, '127.0.0.1', () => r()));
    prometheus = await startPrometheus([{ name: 'lag', port }]);

    // The old reading (log head minus a partition's handled position) counted partitions with no work as lag.
    const marks = await platform.pool.query<{ lag: string }>(
      `SELECT max($1::bigint - global_position) AS lag FROM consumer_offsets WHERE consumer_group LIKE 'all@%'`,
      [head],
    );
    expect(Number(marks.rows[0].lag)).toBeGreaterThan(0);

    const read = async (group: string) => {
      const answer = await prometheus!.query(`recon_consumer_lag_events{job="lag",group="${group}"}`);
      return answer.data?.result.length === 1 ? Number(answer.data.result[0].value[1]) : undefined;
    };
    await waitFor('recon_bus_up 1', async () => {
      const answer = await prometheus!.query('recon_bus_up{job="lag",dependency="kafka"}');
      return answer.data?.result[0]?.value[1] === '1' ? true : undefined;
    });
    await waitFor('lag 0 for both groups', async () =>
      (await read('all')) === 0 && (await read('typed')) === 0 ? true : undefined,
    );

    // New events, not handled by a stopped group: Kafka counts exactly them.
    await bus.close();
    await append('lag-late', [runFailed(2), runFailed(3), runFailed(4)]);
    await waitFor('the relay to publish the late events', async () =>
      (await relay.position()) === head + 3 ? true : undefined,
    );
    await waitFor('lag 3 for both groups', async () =>
      (await read('all')) === 3 && (await read('typed')) === 3 ? true : undefined,
    );
  });
});
