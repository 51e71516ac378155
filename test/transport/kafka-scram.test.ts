import { randomBytes } from 'node:crypto';
import { logLevel, type Kafka, type LogEntry } from 'kafkajs';
import type { RecordedEvent } from '@recon/eventlog';
import { kafkaEventBusFor } from '@recon/service-kit';
import {
  EventLogRelay,
  KafkaEventBus,
  createKafkaClient,
  kafkaConnectionFromEnv,
  kafkaSecurityFromEnv,
  type BusReadiness,
  type KafkaConnection,
} from '@recon/transport';
import { acquireLocalBroker, type LocalBroker } from '../../scripts/kafka/local-broker';
import { runFailed, until } from '../support/kafka';
import { createTestPlatform, type TestPlatform } from '../support/platform';
import { TEST_PRODUCER } from '../support/synthetic-run';

jest.setTimeout(60_000);

/** Its own broker (not the shared plaintext one): SASL_PLAINTEXT with SCRAM, from scripts/kafka/kafka.sh. */
const SCRAM_PORT = Number(process.env.KAFKA_SCRAM_PORT ?? 19094);

describe('Kafka with SASL/SCRAM configured through the environment (real broker)', () => {
  let broker: LocalBroker;
  let platform: TestPlatform;
  const suffix = randomBytes(4).toString('hex');
  const topic = `recon.events.scram-${suffix}`;
  const dlqTopic = `recon.dlq.scram-${suffix}`;
  const closers: Array<() => Promise<unknown>> = [];
  let good: KafkaConnection;

  /** The environment a service gets from the ConfigMap and the mounted Secret. */
  const scramEnv = (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({
    KAFKA_BROKERS: broker.brokers.join(','),
    KAFKA_SASL_MECHANISM: 'scram-sha-512',
    KAFKA_SASL_USERNAME: broker.scram!.username,
    KAFKA_SASL_PASSWORD_FILE: broker.scram!.passwordFile,
    ...extra,
  });
  /** A client that fails at once and records every log line kafkajs writes, down to debug. */
  const loggingClient = (security: ReturnType<typeof kafkaSecurityFromEnv>) => {
    const lines: string[] = [];
    const kafka = createKafkaClient(
      {
        clientId: 'recon-scram-test',
        brokers: broker.brokers,
        retry: { retries: 0 },
        connectionTimeout: 3000,
        logLevel: logLevel.DEBUG,
        logCreator: () => (entry: LogEntry) => void lines.push(JSON.stringify(entry)),
      },
      security,
    );
    return { kafka, lines };
  };
  const connectAdmin = async (kafka: Kafka): Promise<Error | null> => {
    const admin = kafka.admin({ retry: { retries: 0 } });
    try {
      await admin.connect();
      await admin.describeCluster();
      return null;
    } catch (error) {
      return error as Error;
    } finally {
      await admin.disconnect();
    }
  };

  /** A readiness answer as probes see it: asked again (past its cache) until it matches or 15 s have passed. */
  const readinessUntil = async (bus: KafkaEventBus, expected: (answer: BusReadiness) => boolean) => {
    let answer = await bus.checkReady();
    for (
      const start = Date.now();
      !expected(answer) && Date.now() - start < 15_000;
      answer = await bus.checkReady()
    )
      await new Promise((r) => setTimeout(r, 500));
    return answer;
  };

  beforeAll(async () => {
    broker = await acquireLocalBroker({ security: 'scram', port: SCRAM_PORT });
    platform = await createTestPlatform();
    good = kafkaConnectionFromEnv(scramEnv())!;
  }, 120_000);

  afterAll(async () => {
    for (const close of closers.reverse()) await close().catch(() => undefined);
    if (good) {
      const admin = createKafkaClient(
        { clientId: 'recon-scram-test', brokers: good.brokers, logLevel: logLevel.NOTHING },
        good,
      ).admin();
      await admin.connect();
      await admin.deleteTopics({ topics: [topic, dlqTopic] }).catch(() => undefined);
      await admin.disconnect();
    }
    await platform?.close();
    await broker?.release();
  });

  it('delivers committed events through the relay and a KafkaEventBus with the SCRAM credentials of the password file', async () => {
    const kafka = createKafkaClient(
      { clientId: 'recon-scram-test', brokers: good.brokers, logLevel: logLevel.NOTHING },
      good,
    );
    const relay = new EventLogRelay(platform.eventStore, platform.pool, kafka, {
      topic,
      dlqTopic,
      partitions: 2,
      pollMs: 50,
    });
    await relay.start();
    closers.push(() => relay.stop());
    const bus = new KafkaEventBus(kafka, {
      pool: platform.pool,
      topic,
      dlqTopic,
      partitions: 2,
      consumer: { maxWaitTimeInMs: 100, heartbeatInterval: 300, sessionTimeout: 6000 },
    });
    closers.push(() => bus.close());
    const seen: RecordedEvent[] = [];
    await bus.subscribe({ group: `scram-${suffix}` }, async (event) => void seen.push(event));
    for (let i = 1; i <= 5; i += 1)
      await platform.eventStore.append('run-scram', [runFailed(i)], {
        expectedVersion: 'any',
        producer: TEST_PRODUCER,
      });
    await until('5 events over SCRAM', () => seen.length === 5);
    expect(seen.map((e) => e.position)).toEqual([1, 2, 3, 4, 5]);
    expect(await bus.checkReady()).toEqual({ dependency: 'kafka', ready: true });
  });

  it('is ready as a service bus (kafkaEventBusFor) with either SCRAM mechanism', async () => {
    for (const mechanism of ['scram-sha-512', 'scram-sha-256']) {
      const bus = kafkaEventBusFor(
        'scram-test',
        good.brokers,
        platform,
        kafkaSecurityFromEnv(scramEnv({ KAFKA_SASL_MECHANISM: mechanism })),
      );
      closers.push(() => bus.close());
      expect(await bus.checkReady()).toEqual({ dependency: 'kafka', ready: true });
    }
  });

  it('connects over TLS (SASL_SSL) when given the CA file, and refuses a broker certificate it cannot verify', async () => {
    const tls = scramEnv({ KAFKA_BROKERS: broker.scram!.tlsBrokers.join(','), KAFKA_TLS: 'true' });
    const secured = kafkaConnectionFromEnv({ ...tls, KAFKA_TLS_CA_FILE: broker.scram!.caFile })!;
    const bus = kafkaEventBusFor('scram-test', secured.brokers, platform, secured);
    closers.push(() => bus.close());
    expect(await readinessUntil(bus, (a) => a.ready)).toEqual({ dependency: 'kafka', ready: true });
    // The system CAs do not know the broker's local CA.
    const unverified = kafkaEventBusFor('scram-test', secured.brokers, platform, kafkaSecurityFromEnv(tls));
    closers.push(() => unverified.close());
    const certificate = /self[- ]signed certificate|unable to (get|verify)/i;
    expect(await readinessUntil(unverified, (a) => !a.ready && certificate.test(a.error))).toEqual({
      dependency: 'kafka',
      ready: false,
      error: expect.stringMatching(certificate),
    });
  });

  it('refuses a wrong password with a clear error that neither it nor any log line contains', async () => {
    const wrong = `wrong-${randomBytes(8).toString('hex')}`;
    const security = kafkaSecurityFromEnv(
      scramEnv({ KAFKA_SASL_PASSWORD_FILE: undefined, KAFKA_SASL_PASSWORD: wrong }),
    );
    const { kafka, lines } = loggingClient(security);
    const error = await connectAdmin(kafka);
    expect(error?.message).toMatch(/SASL SCRAM SHA512 authentication failed/);
    expect(error?.message).not.toContain(wrong);
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.join('\n')).not.toContain(wrong);

    const bus = kafkaEventBusFor('scram-test', good.brokers, platform, security);
    closers.push(() => bus.close());
    const readiness = await bus.checkReady();
    expect(readiness).toEqual({
      dependency: 'kafka',
      ready: false,
      error: expect.stringMatching(/SASL SCRAM SHA512 authentication failed/),
    });
    expect(JSON.stringify(readiness)).not.toContain(wrong);
  });

  it('refuses a client without credentials', async () => {
    const { kafka } = loggingClient({});
    expect((await connectAdmin(kafka))?.name).toBe('KafkaJSConnectionClosedError');
    const bus = kafkaEventBusFor('scram-test', good.brokers, platform, {});
    closers.push(() => bus.close());
    expect(await bus.checkReady()).toEqual({
      dependency: 'kafka',
      ready: false,
      error: expect.stringMatching(
        /^Closed connection by the broker \(does its listener require SASL or TLS\?/,
      ),
    });
  });
});
