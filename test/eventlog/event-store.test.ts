import {
  IdempotencyConflictError,
  PostgresEventStore,
  WrongExpectedVersionError,
  auditStream,
  deterministicEventId,
  subscribeAll,
  type NewEvent,
  type RecordedEvent,
} from '@recon/eventlog';
import { ContractViolationError } from '@recon/contracts';
import { createTestPlatform, type TestPlatform } from '../support/platform';
import { syntheticRunEvents, TEST_PRODUCER } from '../support/synthetic-run';

const failed = (streamId: string, error: string): NewEvent => ({
  type: 'run.failed',
  payload: { phase: 'test', error: `${streamId}: ${error}` },
});

describe('PostgresEventStore', () => {
  let platform: TestPlatform;
  beforeAll(async () => {
    platform = await createTestPlatform();
  });
  afterAll(async () => {
    await platform.close();
  });
  const append = (stream: string, events: NewEvent[], expectedVersion: number | 'any' | 'no-stream' = 'any') =>
    platform.eventStore.append(stream, events, { expectedVersion, producer: TEST_PRODUCER });

  it('appends a stream with consecutive positions, chained hashes and gap-free global positions', async () => {
    const recorded = await append('run-basic', syntheticRunEvents('run-basic'), 'no-stream');
    expect(recorded.map((e) => e.position)).toEqual(recorded.map((_, i) => i + 1));
    recorded.slice(1).forEach((event, i) => {
      expect(event.prevHash).toBe(recorded[i].hash);
      expect(event.globalPosition).toBe(recorded[i].globalPosition + 1);
    });
    const read = await platform.eventStore.readStream('run-basic');
    expect(read).toEqual(recorded);
    expect(await platform.eventStore.streamVersion('run-basic')).toBe(recorded.length);
    expect((await auditStream(platform.pool, 'run-basic')).ok).toBe(true);
  });

  it('rejects a stale expected version with a typed conflict and writes nothing', async () => {
    await append('run-conflict', [failed('run-conflict', 'first')], 'no-stream');
    const head = await platform.eventStore.headPosition();
    await expect(append('run-conflict', [failed('run-conflict', 'late')], 0)).rejects.toBeInstanceOf(
      WrongExpectedVersionError,
    );
    await expect(append('run-conflict', [failed('run-conflict', 'again')], 'no-stream')).rejects.toThrow(
      "stream 'run-conflict': expected version no-stream, but the stream is at version 1",
    );
    expect(await platform.eventStore.headPosition()).toBe(head);
    expect(await platform.eventStore.streamVersion('run-conflict')).toBe(1);
  });

  it('lets exactly one of several concurrent writers with the same expected version win', async () => {
    await append('run-race', [failed('run-race', 'base')], 'no-stream');
    const attempts = await Promise.allSettled(
      Array.from({ length: 6 }, (_, i) => append('run-race', [failed('run-race', `writer ${i}`)], 1)),
    );
    expect(attempts.filter((a) => a.status === 'fulfilled')).toHaveLength(1);
    const rejected = attempts.filter((a): a is PromiseRejectedResult => a.status === 'rejected');
    expect(rejected).toHaveLength(5);
    rejected.forEach((r) => expect(r.reason).toBeInstanceOf(WrongExpectedVersionError));
    expect(await platform.eventStore.streamVersion('run-race')).toBe(2);
  });

  it('treats a retried append (same event ids, same content) as done, never duplicating it', async () => {
    const events = syntheticRunEvents('run-retry', { sftSteps: 2, grpoSteps: 1 }).map((event, i) => ({
      ...event,
      eventId: deterministicEventId('run-retry', i),
    })) as NewEvent[];
    const first = await append('run-retry', events, 'no-stream');
    const retried = await append('run-retry', events, 'no-stream');
    expect(retried.map((e) => e.hash)).toEqual(first.map((e) => e.hash));
    expect(await platform.eventStore.streamVersion('run-retry')).toBe(events.length);
  });

  it('refuses an event id reused with other content, or a batch that is half retried', async () => {
    const id = deterministicEventId('run-reuse', 0);
    await append('run-reuse', [{ ...failed('run-reuse', 'a'), eventId: id }]);
    await expect(append('run-reuse', [{ ...failed('run-reuse', 'b'), eventId: id }])).rejects.toBeInstanceOf(
      IdempotencyConflictError,
    );
    await expect(
      append('run-reuse', [{ ...failed('run-reuse', 'a'), eventId: id }, failed('run-reuse', 'new')]),
    ).rejects.toThrow(/retried whole or not at all/);
    expect(await platform.eventStore.streamVersion('run-reuse')).toBe(1);
  });

  it('rejects an invalid or unknown event naming the type and field, writing nothing of the batch', async () => {
    const head = await platform.eventStore.headPosition();
    const bad = { type: 'sft.step.completed', payload: { step: -1 } } as unknown as NewEvent;
    await expect(append('run-invalid', [failed('run-invalid', 'ok'), bad])).rejects.toThrow(
      /invalid event 'sft.step.completed' at field 'step'/,
    );
    const unknown = { type: 'run.exploded', payload: {} } as unknown as NewEvent;
    await expect(append('run-invalid', [unknown])).rejects.toBeInstanceOf(ContractViolationError);
    expect(await platform.eventStore.headPosition()).toBe(head);
  });

  it('never lets a reader see an event before one of a transaction still in flight', async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const { openPlatform } = await import('@recon/persistence');
    const slow = await openPlatform({
      databaseUrl: platform.databaseUrl,
      blobDir: platform.home,
      eventStoreHooks: { beforeCommit: (stream) => (stream === 'run-slow' ? held : Promise.resolve()) },
    });
    try {
      const head = await platform.eventStore.headPosition();
      const slowAppend = slow.eventStore.append('run-slow', [failed('run-slow', 'slow')], {
        expectedVersion: 'any',
        producer: TEST_PRODUCER,
      });
      await new Promise((resolve) => setTimeout(resolve, 100));
      const fastAppend = append('run-fast', [failed('run-fast', 'fast')]);
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(await platform.eventStore.readAll(head, 10)).toEqual([]);
      release();
      const [slowEvents, fastEvents] = await Promise.all([slowAppend, fastAppend]);
      const seen = await platform.eventStore.readAll(head, 10);
      expect(seen.map((e) => e.streamId)).toEqual(['run-slow', 'run-fast']);
      expect(fastEvents[0].globalPosition).toBe(slowEvents[0].globalPosition + 1);
    } finally {
      await slow.close();
    }
  });

  it('chains to the stream head another writer moved, and judges expected versions by the committed head', async () => {
    // Two stores (two services) writing one stream: each remembers the head of its own last append.
    const other = new PostgresEventStore(platform.pool);
    const viaOther = (events: NewEvent[], expectedVersion: number | 'any' = 'any') =>
      other.append('run-two-writers', events, { expectedVersion, producer: TEST_PRODUCER });
    await append('run-two-writers', [failed('run-two-writers', 'a1')]);
    await viaOther([failed('run-two-writers', 'b1')]);
    await append('run-two-writers', [failed('run-two-writers', 'a2')], 2);
    await expect(viaOther([failed('run-two-writers', 'b2')], 2)).rejects.toBeInstanceOf(WrongExpectedVersionError);
    await viaOther([failed('run-two-writers', 'b2')], 3);
    const stored = await platform.eventStore.readStream('run-two-writers');
    expect(stored.map((e) => (e.payload as { error: string }).error.split(': ')[1])).toEqual(['a1', 'b1', 'a2', 'b2']);
    expect((await auditStream(platform.pool, 'run-two-writers')).ok).toBe(true);
  });

  it('delivers every event exactly once, in commit order, to a subscriber while writers run concurrently', async () => {
    const start = await platform.eventStore.headPosition();
    const received: RecordedEvent[] = [];
    const controller = new AbortController();
    const subscription = subscribeAll(
      platform.eventStore,
      platform.pool,
      async (events) => {
        received.push(...events);
      },
      { after: start, batchSize: 7, pollMs: 20, signal: controller.signal },
    );
    const writers = Array.from({ length: 6 }, async (_, w) => {
      for (let i = 0; i < 15; i += 1) await append(`run-writer-${w}`, [failed(`w${w}`, `e${i}`), failed(`w${w}`, `f${i}`)]);
    });
    await Promise.all(writers);
    const end = await platform.eventStore.headPosition();
    while (received.length < end - start) await new Promise((resolve) => setTimeout(resolve, 20));
    controller.abort();
    await subscription;
    expect(received.map((e) => e.globalPosition)).toEqual(Array.from({ length: end - start }, (_, i) => start + i + 1));
  });
});

describe('append limits', () => {
  it('refuses a batch over the per-append limit and a completion over the stored length, naming the limit', async () => {
    const platform = await createTestPlatform();
    try {
      const { MAX_EVENTS_PER_APPEND, BatchTooLargeError } = await import('@recon/eventlog');
      const { MAX_COMPLETION_CHARS } = await import('@recon/contracts');
      const many = Array.from({ length: MAX_EVENTS_PER_APPEND + 1 }, () => failed('big', 'x'));
      await expect(platform.eventStore.append('big', many, { expectedVersion: 'any', producer: TEST_PRODUCER })).rejects.toBeInstanceOf(
        BatchTooLargeError,
      );
      const long: NewEvent = {
        type: 'rollout.generated',
        payload: {
          rolloutId: 'r',
          step: 0,
          promptId: 'p',
          groupIndex: 0,
          policyVersion: 'a'.repeat(64),
          seed: 0,
          completion: 'x'.repeat(MAX_COMPLETION_CHARS + 1),
          completionTokens: 1,
          truncated: true,
          finishReason: 'length',
        },
      };
      await expect(platform.eventStore.append('big', [long], { expectedVersion: 'any', producer: TEST_PRODUCER })).rejects.toThrow(
        `at field 'completion': a completion is stored up to ${MAX_COMPLETION_CHARS} characters`,
      );
      expect(await platform.eventStore.headPosition()).toBe(0);
    } finally {
      await platform.close();
    }
  });
});
