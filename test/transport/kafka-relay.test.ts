import { randomBytes } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import { PostgresEventStore, type NewEvent, type RecordedEvent } from '@recon/eventlog';
import { EventLogRelay, KafkaEventBus, decodeEvent } from '@recon/transport';
import { openKafkaTestBed, runFailed, sleep, until, type KafkaTestBed } from '../support/kafka';
import type { TestPlatform } from '../support/platform';
import { TEST_PRODUCER } from '../support/synthetic-run';

jest.setTimeout(120_000);

describe('EventLogRelay against a real broker', () => {
  let bed: KafkaTestBed;
  let platform: TestPlatform;
  let kafka: Kafka;
  const topics: string[] = [];
  const suffix = randomBytes(4).toString('hex');

  /** A fresh topic per test, so each test reads only what its own relay published. */
  const freshTopic = (name: string) => {
    const topic = `recon.events.${name}-${suffix}`;
    topics.push(topic, `${topic}.dlq`);
    return { topic, dlqTopic: `${topic}.dlq`, partitions: 4 };
  };
  const append = (run: string, events: NewEvent[]) => bed.append(run, events);

  /** Every message of a topic, decoded, in partition then offset order. */
  const readTopic = async (topic: string): Promise<RecordedEvent[]> => {
    const admin = kafka.admin();
    await admin.connect();
    const ends = await admin.fetchTopicOffsets(topic);
    await admin.disconnect();
    const expected = ends.reduce((sum, p) => sum + Number(p.high), 0);
    const messages: Array<{ partition: number; offset: number; event: RecordedEvent }> = [];
    const reader = kafka.consumer({
      groupId: `reader-${randomBytes(4).toString('hex')}`,
      maxWaitTimeInMs: 100,
    });
    await reader.connect();
    await reader.subscribe({ topics: [topic], fromBeginning: true });
    await reader.run({
      eachMessage: async ({ partition, message }) =>
        void messages.push({ partition, offset: Number(message.offset), event: decodeEvent(message, topic) }),
    });
    await until(`${expected} messages in ${topic}`, () => messages.length >= expected);
    await reader.disconnect();
    return messages.sort((a, b) => a.partition - b.partition || a.offset - b.offset).map((m) => m.event);
  };

  beforeAll(async () => {
    bed = await openKafkaTestBed();
    ({ platform, kafka } = bed);
  });

  afterAll(async () => {
    await bed?.close(topics);
  });

  it('publishes an event if and only if it was committed, each run in one partition in log order', async () => {
    const { topic, ...rest } = freshTopic('iff');
    const relay = new EventLogRelay(platform.eventStore, platform.pool, kafka, {
      topic,
      ...rest,
      pollMs: 50,
    });
    await relay.start();
    const rollingBack = new PostgresEventStore(platform.pool, {
      beforeCommit: async () => {
        throw new Error('crash before commit');
      },
    });
    const committed: RecordedEvent[] = [];
    for (let i = 0; i < 5; i += 1) {
      committed.push(...(await append(`run-iff-${i % 2}`, [runFailed(i), runFailed(i + 10)])));
      await expect(
        rollingBack.append(`run-iff-${i % 2}`, [runFailed(99)], {
          expectedVersion: 'any',
          producer: TEST_PRODUCER,
        }),
      ).rejects.toThrow('crash before commit');
    }
    const head = await platform.eventStore.headPosition();
    for (let i = 0; i < 100 && (await relay.position()) < head; i += 1) await sleep(50);
    expect(await relay.position()).toBe(head);
    await relay.stop();
    const published = await readTopic(topic);
    expect(published.map((e) => e.eventId).sort()).toEqual(committed.map((e) => e.eventId).sort());
    for (const run of ['run-iff-0', 'run-iff-1']) {
      const ofRun = published.filter((e) => e.streamId === run);
      expect(ofRun.map((e) => e.position)).toEqual(ofRun.map((_, i) => i + 1));
    }
    expect(published.filter((e) => !e.streamId.startsWith('run-iff')).length).toBe(0);
  });

  it('loses nothing when the relay crashes after publishing and before storing its position, or is replaced', async () => {
    const { topic, ...rest } = freshTopic('crash');
    const errors: Error[] = [];
    let batches = 0;
    const crashing = new EventLogRelay(platform.eventStore, platform.pool, kafka, {
      topic,
      ...rest,
      pollMs: 50,
      retryMs: 100,
      batchSize: 7,
      onError: (e) => errors.push(e),
      afterPublish: async () => {
        batches += 1;
        if (batches === 3) throw new Error('relay crashed after publishing');
      },
    });
    const bus = new KafkaEventBus(kafka, {
      pool: platform.pool,
      topic,
      ...rest,
      consumer: { maxWaitTimeInMs: 100, heartbeatInterval: 300 },
    });
    const handled = new Map<string, number>();
    await bus.subscribe({ group: `crash-${suffix}` }, async (event) => {
      if (event.streamId.startsWith('run-crash'))
        handled.set(event.eventId, (handled.get(event.eventId) ?? 0) + 1);
    });
    const appended: RecordedEvent[] = [];
    const appendSome = async (from: number, count: number) => {
      for (let i = from; i < from + count; i += 1)
        appended.push(...(await append(`run-crash-${i % 3}`, [runFailed(i)])));
    };
    // The log already holds events when the relay starts: it publishes them in batches of 7.
    await appendSome(0, 30);
    await crashing.start();
    await appendSome(30, 10);
    await until('the relay to recover from its crash', () => errors.length === 1 && handled.size >= 40);
    expect(errors[0].message).toBe('relay crashed after publishing');

    // Replaced: a second relay stands by on the lock until the first stops, then takes over at its position.
    const successor = new EventLogRelay(platform.eventStore, platform.pool, kafka, {
      topic,
      ...rest,
      pollMs: 50,
    });
    let successorActive = false;
    const takingOver = successor.start().then(() => void (successorActive = true));
    await appendSome(40, 10);
    await sleep(300);
    expect(successorActive).toBe(false);
    const stopping = crashing.stop();
    await appendSome(50, 10);
    await stopping;
    await takingOver;
    await appendSome(60, 10);
    await until('every event handled', () => handled.size === appended.length);
    await sleep(500);
    await successor.stop();
    await bus.close();

    expect([...handled.values()].filter((count) => count !== 1)).toEqual([]);
    expect(new Set(handled.keys())).toEqual(new Set(appended.map((e) => e.eventId)));
    const published = (await readTopic(topic)).filter((e) => e.streamId.startsWith('run-crash'));
    // The crashed batch went out twice: duplicates reached Kafka, and the consumer skipped them.
    expect(published.length).toBeGreaterThan(appended.length);
    expect(new Set(published.map((e) => e.eventId)).size).toBe(appended.length);
  });
});
