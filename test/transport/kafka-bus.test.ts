import { randomBytes } from 'node:crypto';
import { Partitioners, type Kafka, type KafkaMessage } from 'kafkajs';
import type { NewEvent, RecordedEvent } from '@recon/eventlog';
import {
  EventLogRelay,
  HEADER_DLQ_GROUP,
  HEADER_DLQ_REASON,
  HEADER_DLQ_SOURCE,
  KafkaEventBus,
  encodeEvent,
  headerText,
  type HandlerFailedError,
  type PoisonMessageError,
} from '@recon/transport';
import { openKafkaTestBed, runFailed, sleep, until, type KafkaTestBed } from '../support/kafka';
import type { TestPlatform } from '../support/platform';

jest.setTimeout(120_000);

describe('KafkaEventBus against a real broker', () => {
  let bed: KafkaTestBed;
  let platform: TestPlatform;
  let kafka: Kafka;
  const suffix = randomBytes(4).toString('hex');
  const topic = `recon.events.test-${suffix}`;
  const dlqTopic = `recon.dlq.test-${suffix}`;
  let relay: EventLogRelay;

  const append = (run: string, events: NewEvent[]) => bed.append(run, events);
  const newBus = (extra: Partial<ConstructorParameters<typeof KafkaEventBus>[1]> = {}) =>
    new KafkaEventBus(kafka, {
      pool: platform.pool,
      topic,
      dlqTopic,
      partitions: 6,
      consumer: { maxWaitTimeInMs: 100, heartbeatInterval: 300, sessionTimeout: 6000 },
      ...extra,
    });

  beforeAll(async () => {
    bed = await openKafkaTestBed();
    ({ platform, kafka } = bed);
    relay = new EventLogRelay(platform.eventStore, platform.pool, kafka, {
      topic,
      dlqTopic,
      partitions: 6,
      pollMs: 50,
    });
    await relay.start();
  });

  afterAll(async () => {
    await relay?.stop();
    await bed?.close([topic, dlqTopic]);
  });

  it('delivers every committed event to every group, each run in commit order, and resumes a group where it stopped', async () => {
    const bus = newBus();
    const all: RecordedEvent[] = [];
    const onlyRequested: RecordedEvent[] = [];
    const consumerAll = await bus.subscribe({ group: `all-${suffix}` }, async (e) => void all.push(e));
    await bus.subscribe(
      { group: `filtered-${suffix}`, types: ['run.requested'] },
      async (e) => void onlyRequested.push(e),
    );
    const runs = ['run-order-a', 'run-order-b', 'run-order-c'];
    for (let i = 1; i <= 10; i += 1) {
      for (const run of runs) await append(run, [runFailed(i), runFailed(i + 100)]);
    }
    await until('60 events in group all', () => all.length === 60);
    for (const run of runs) {
      expect(all.filter((e) => e.streamId === run).map((e) => e.position)).toEqual(
        Array.from({ length: 20 }, (_, i) => i + 1),
      );
    }
    await append('run-order-a', [
      {
        type: 'run.requested',
        payload: {
          name: 'r',
          config: {},
          configHash: 'a'.repeat(64),
          seed: 1,
          requestedBy: 't',
          codeVersion: 't',
        },
      },
    ]);
    await until('the filtered group to get run.requested', () => onlyRequested.length === 1);
    expect(onlyRequested.map((e) => e.type)).toEqual(['run.requested']);
    await until('group all to get run.requested too', () => all.length === 61);

    await consumerAll.stop();
    await append('run-order-b', [runFailed(99)]);
    const resumed: RecordedEvent[] = [];
    await bus.subscribe({ group: `all-${suffix}` }, async (e) => void resumed.push(e));
    await until('the resumed group to get the new event', () => resumed.length === 1);
    await sleep(500);
    expect(resumed.map((e) => [e.streamId, e.position])).toEqual([['run-order-b', 21]]);
    await bus.close();
  });

  it('shares a group between two consumers: partitions split, each event handled once, also across the rebalance', async () => {
    const bus = newBus();
    const group = `shared-${suffix}`;
    const handledBy = new Map<string, string[]>();
    const handler = (instance: string) => async (event: RecordedEvent) => {
      handledBy.set(event.eventId, [...(handledBy.get(event.eventId) ?? []), instance]);
      await sleep(10);
    };
    await bus.subscribe({ group, startAt: 'latest' }, handler('one'));
    const runs = Array.from({ length: 12 }, (_, i) => `run-shared-${i}`);
    const appended: RecordedEvent[] = [];
    for (const run of runs)
      appended.push(
        ...(await append(
          run,
          Array.from({ length: 10 }, (_, i) => runFailed(i)),
        )),
      );
    // The second member joins while the first is still working through the runs.
    await until('the first consumer to have started', () => handledBy.size > 0);
    await bus.subscribe({ group }, handler('two'));
    for (const run of runs)
      appended.push(
        ...(await append(
          run,
          Array.from({ length: 10 }, (_, i) => runFailed(i + 10)),
        )),
      );
    await until('every event handled', () => handledBy.size === appended.length, 60_000);
    await sleep(1000);
    const handlers = [...handledBy.values()];
    expect(handlers.filter((by) => by.length !== 1)).toEqual([]);
    expect(new Set(handledBy.keys())).toEqual(new Set(appended.map((e) => e.eventId)));
    const instances = new Set(handlers.map(([by]) => by));
    expect(instances).toEqual(new Set(['one', 'two']));
    await bus.close();
  });

  it('tells each member which events it is delivered: those keyed to the partitions of its assignment', async () => {
    const bus = newBus();
    const group = `delivers-${suffix}`;
    const handledBy = new Map<string, string>();
    const handler = (instance: string) => async (event: RecordedEvent) => {
      if (event.streamId.startsWith('run-delivers')) handledBy.set(event.eventId, instance);
    };
    const one = await bus.subscribe({ group, startAt: 'latest' }, handler('one'));
    const two = await bus.subscribe({ group }, handler('two'));
    const runs = Array.from({ length: 12 }, (_, i) => `run-delivers-${i}`);
    const probe = (run: string) => ({
      streamId: run,
      type: 'run.failed' as const,
      payload: { phase: 'probe', error: 'probe' },
    });
    // The first member learns its share at the rejoin the second one causes: each run with exactly one.
    await until('the two members to split the partitions', () =>
      runs.every((run) => one.delivers(probe(run)) !== two.delivers(probe(run))),
    );
    expect(runs.filter((run) => one.delivers(probe(run))).length).toBeGreaterThan(0);
    expect(runs.filter((run) => two.delivers(probe(run))).length).toBeGreaterThan(0);
    const appended: RecordedEvent[] = [];
    for (const run of runs) appended.push(...(await append(run, [runFailed(1)])));
    await until('every event handled', () => handledBy.size === appended.length, 60_000);
    for (const event of appended) {
      const [member, other] = handledBy.get(event.eventId) === 'one' ? [one, two] : [two, one];
      expect([event.streamId, member.delivers(event), other.delivers(event)]).toEqual([
        event.streamId,
        true,
        false,
      ]);
    }
    await bus.close();
  });

  it('sends undecodable and invalid messages to the dead-letter topic with the reason and goes on with the partition', async () => {
    const deadLetters: PoisonMessageError[] = [];
    const bus = newBus({ onDeadLetter: (e) => deadLetters.push(e) });
    const run = 'run-poison';
    const received: RecordedEvent[] = [];
    await bus.subscribe({ group: `poison-${suffix}`, startAt: 'latest' }, async (e) => {
      if (e.streamId === run) received.push(e);
    });
    const [first] = await append(run, [runFailed(1)]);
    await until('the first event to be handled', () => received.length === 1);
    // Poison in the run's own partition, between two good events: garbage, and a valid envelope with a bad payload.
    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    const invalid = encodeEvent({ ...first, payload: { phase: 7 } } as unknown as RecordedEvent);
    await producer.send({
      topic,
      messages: [{ key: run, value: 'not json at all' }, invalid],
    });
    await producer.disconnect();
    await append(run, [runFailed(2)]);
    await until('the event after the poison to be handled', () => received.length === 2);
    expect(received.map((e) => e.position)).toEqual([1, 2]);
    await until('two dead letters', () => deadLetters.length === 2);

    const dlq: KafkaMessage[] = [];
    const reader = kafka.consumer({ groupId: `dlq-reader-${suffix}`, maxWaitTimeInMs: 100 });
    await reader.connect();
    await reader.subscribe({ topics: [dlqTopic], fromBeginning: true });
    await reader.run({ eachMessage: async ({ message }) => void dlq.push(message) });
    await until('two messages in the dead-letter topic', () => dlq.length === 2);
    await reader.disconnect();
    expect(dlq.map((m) => m.value?.toString()).at(0)).toBe('not json at all');
    expect(dlq.map((m) => m.key?.toString())).toEqual([run, run]);
    expect(headerText(dlq[0].headers, HEADER_DLQ_REASON)).toMatch(/^the value is not JSON/);
    expect(headerText(dlq[1].headers, HEADER_DLQ_REASON)).toMatch(
      /invalid event 'run.failed' at field 'phase'/,
    );
    expect(headerText(dlq[0].headers, HEADER_DLQ_SOURCE)).toMatch(
      new RegExp(`^${topic.replace(/\./g, '\\.')}\\[\\d+\\]@\\d+$`),
    );
    expect(headerText(dlq[0].headers, HEADER_DLQ_GROUP)).toBe(`poison-${suffix}`);
    await bus.close();
  });

  it('starts a new group at the end with startAt latest, and keeps that start across a stop before its first event', async () => {
    const bus = newBus();
    await append('run-latest', [runFailed(1)]);
    await sleep(300);
    const group = `latest-${suffix}`;
    const first = await bus.subscribe({ group, startAt: 'latest' }, async () => undefined);
    await first.stop();
    await append('run-latest', [runFailed(2)]);
    const seen: number[] = [];
    await bus.subscribe({ group, startAt: 'latest' }, async (e) => {
      if (e.streamId === 'run-latest') seen.push(e.position);
    });
    await until('the event published between the two members', () => seen.length === 1);
    await append('run-latest', [runFailed(3)]);
    await until('the next event', () => seen.length === 2);
    expect(seen).toEqual([2, 3]);
    await bus.close();
  });

  it('reports a failing handler with the group, event type, run and position, and stops that consumer', async () => {
    const errors: HandlerFailedError[] = [];
    const bus = newBus({ onError: (e) => errors.push(e) });
    const seen: number[] = [];
    await bus.subscribe({ group: `failing-${suffix}`, startAt: 'latest' }, async (event) => {
      if (event.streamId !== 'run-fail') return;
      seen.push(event.position);
      if (event.position === 2) throw new Error('reward service crashed');
    });
    await append('run-fail', [runFailed(1), runFailed(2), runFailed(3)]);
    await until('the failure to be reported', () => errors.length === 1);
    expect(errors[0].message).toMatch(
      /consumer group 'failing-[0-9a-f]+' failed on event run.failed \(run run-fail, position 2\): reward service crashed/,
    );
    await sleep(500);
    expect(seen).toEqual([1, 2]);
    // A new member of the group starts again at the failed event, not after it.
    const retried: number[] = [];
    await bus.subscribe({ group: `failing-${suffix}` }, async (event) => {
      if (event.streamId === 'run-fail') retried.push(event.position);
    });
    await until('the failed event to be delivered again', () => retried.length === 2);
    expect(retried).toEqual([2, 3]);
    await bus.close();
  });
});
