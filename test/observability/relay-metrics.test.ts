import { randomBytes } from 'node:crypto';
import { Registry } from 'prom-client';
import { registerRelayMetrics } from '@recon/observability';
import { EventLogRelay } from '@recon/transport';
import { openKafkaTestBed, runFailed, type KafkaTestBed } from '../support/kafka';

jest.setTimeout(120_000);

describe('outbox relay metrics against a real broker and log', () => {
  let bed: KafkaTestBed;
  const topic = `recon.events.relay-metrics-${randomBytes(4).toString('hex')}`;

  beforeAll(async () => {
    bed = await openKafkaTestBed();
  });
  afterAll(async () => {
    await bed?.close([topic, `${topic}.dlq`]);
  });

  /** The value of one series of the registry, as Prometheus would scrape it. */
  const sample = async (registry: Registry, name: string): Promise<number | undefined> => {
    const text = await registry.metrics();
    const line = text.split('\n').find((l) => l.startsWith(`${name}{topic="${topic}"}`));
    return line === undefined ? undefined : Number(line.split(' ').pop());
  };
  const until = async (what: string, probe: () => Promise<boolean>) => {
    for (const start = Date.now(); !(await probe()); await new Promise((r) => setTimeout(r, 50)))
      if (Date.now() - start > 60_000) throw new Error(`timed out waiting for ${what}`);
  };

  it('reports the committed events not yet in Kafka, and the events this instance published', async () => {
    const { platform, kafka, append } = bed;
    await append('relay-a', [runFailed(1), runFailed(2), runFailed(3)]);
    await append('relay-b', [runFailed(4), runFailed(5)]);
    const head = await platform.eventStore.headPosition();
    expect(head).toBeGreaterThanOrEqual(5);

    const options = { topic, dlqTopic: `${topic}.dlq`, partitions: 2, pollMs: 20, retryMs: 100 };
    const relay = new EventLogRelay(platform.eventStore, platform.pool, kafka, options);
    const registry = new Registry();
    registerRelayMetrics(registry, platform.pool, relay);
    // Nothing relayed yet: the whole log is lag, nothing published.
    expect(await sample(registry, 'recon_relay_lag_events')).toBe(head);
    expect(await sample(registry, 'recon_relay_published_events_total')).toBe(0);

    await relay.start();
    await until('the relay to reach the log head', async () => (await relay.position()) === head);
    expect(await sample(registry, 'recon_relay_lag_events')).toBe(0);
    expect(await sample(registry, 'recon_relay_published_events_total')).toBe(head);
    await relay.stop();

    // Committed while no relay runs: lag again, by exactly those events; the counter keeps its total.
    await append('relay-a', [runFailed(6), runFailed(7)]);
    expect(await sample(registry, 'recon_relay_lag_events')).toBe(2);
    expect(await sample(registry, 'recon_relay_published_events_total')).toBe(head);

    // A second instance resumes from the stored position: it publishes only the two, and the lag closes.
    const resumed = new EventLogRelay(platform.eventStore, platform.pool, kafka, options);
    const second = new Registry();
    registerRelayMetrics(second, platform.pool, resumed);
    await resumed.start();
    await until('the second relay to catch up', async () => (await resumed.position()) === head + 2);
    expect(await sample(second, 'recon_relay_lag_events')).toBe(0);
    expect(await sample(second, 'recon_relay_published_events_total')).toBe(2);
    await resumed.stop();
  });
});
