import { logLevel, type Kafka } from 'kafkajs';
import type { NewEvent, RecordedEvent } from '@recon/eventlog';
import { createKafkaClient } from '@recon/transport';
import { acquireLocalBroker, type LocalBroker } from '../../scripts/kafka/local-broker';
import { createTestPlatform, type TestPlatform } from './platform';
import { waitFor } from './prometheus';
import { TEST_PRODUCER } from './synthetic-run';

/** A small valid event to fill streams with; `i` tells one from another. */
export const runFailed = (i: number): NewEvent => ({
  type: 'run.failed',
  payload: { phase: 'p', error: `e${i}` },
});

/** Polls a condition on what the test has collected so far, every 25 ms. */
export async function until(what: string, predicate: () => boolean, timeoutMs = 30_000): Promise<void> {
  await waitFor(what, async () => (predicate() ? true : undefined), timeoutMs, 25);
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The test broker (see acquireLocalBroker), a fresh test database, and a kafkajs client (KAFKA_LOG: log). */
export interface KafkaTestBed {
  broker: LocalBroker;
  platform: TestPlatform;
  kafka: Kafka;
  /** Appends to a stream at any version, as the test's producer. */
  append(streamId: string, events: NewEvent[]): Promise<RecordedEvent[]>;
  /** Deletes the topics (those already gone are no error), closes the database and releases the broker. */
  close(topics: string[]): Promise<void>;
}

export async function openKafkaTestBed(): Promise<KafkaTestBed> {
  const broker = await acquireLocalBroker();
  const platform = await createTestPlatform().catch(async (error: unknown) => {
    await broker.release();
    throw error;
  });
  const kafka = createKafkaClient({
    clientId: 'recon-test',
    brokers: broker.brokers,
    logLevel: process.env.KAFKA_LOG ? logLevel.INFO : logLevel.NOTHING,
  });
  return {
    broker,
    platform,
    kafka,
    append: (streamId, events) =>
      platform.eventStore.append(streamId, events, { expectedVersion: 'any', producer: TEST_PRODUCER }),
    close: async (topics) => {
      if (topics.length > 0) {
        const admin = kafka.admin();
        await admin.connect();
        await admin.deleteTopics({ topics }).catch(() => undefined);
        await admin.disconnect();
      }
      await platform.close();
      await broker.release();
    },
  };
}
