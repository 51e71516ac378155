import { auditStream, deterministicEventId, type NewEvent } from '@recon/eventlog';
import { createTestPlatform, type TestPlatform } from '../support/platform';
import { TEST_PRODUCER } from '../support/synthetic-run';

/**
 * An append whose session the server ends in the middle of its transaction (a restart, a failover, here
 * pg_terminate_backend of that session only, on this file's scratch database) is retried when that cannot
 * record anything twice, and refused otherwise.
 */
describe('PostgresEventStore: an append that loses its session', () => {
  let platform: TestPlatform;
  /** Streams whose next append has its session terminated just before COMMIT. */
  const victims = new Set<string>();
  beforeAll(async () => {
    platform = await createTestPlatform({
      eventStoreHooks: {
        beforeCommit: async (streamId) => {
          if (!victims.delete(streamId)) return;
          // The appending session is the one of this database idle in its transaction.
          const ended = await platform.pool.query<{ ended: boolean }>(
            `SELECT pg_terminate_backend(pid) AS ended FROM pg_stat_activity
             WHERE datname = current_database() AND state = 'idle in transaction' AND pid <> pg_backend_pid()`,
          );
          expect(ended.rows.map((r) => r.ended)).toEqual([true]);
        },
      },
    });
  });
  afterAll(async () => {
    await platform.close();
  });

  const failed = (streamId: string, withId: boolean): NewEvent => ({
    ...(withId ? { eventId: deterministicEventId(streamId, 'run.failed', 'test') } : {}),
    type: 'run.failed',
    payload: { phase: 'test', error: streamId },
  });
  const append = (streamId: string, events: NewEvent[]) =>
    platform.eventStore.append(streamId, events, { expectedVersion: 'any', producer: TEST_PRODUCER });

  it('is retried whole when its events carry their ids, and recorded once', async () => {
    victims.add('lost-with-ids');
    const recorded = await append('lost-with-ids', [failed('lost-with-ids', true)]);
    expect(victims.has('lost-with-ids')).toBe(false);
    const stored = await platform.eventStore.readStream('lost-with-ids');
    expect(stored.map((e) => e.eventId)).toEqual(recorded.map((e) => e.eventId));
    expect((await auditStream(platform.pool, 'lost-with-ids')).ok).toBe(true);
  });

  it('is not retried once COMMIT was sent for events without ids (it may have committed)', async () => {
    victims.add('lost-without-ids');
    await expect(append('lost-without-ids', [failed('lost-without-ids', false)])).rejects.toThrow();
    // Here the session ended before COMMIT reached the server: nothing was recorded, and a new append works.
    expect(await platform.eventStore.readStream('lost-without-ids')).toEqual([]);
    await append('lost-without-ids', [failed('lost-without-ids', false)]);
    expect(await platform.eventStore.readStream('lost-without-ids')).toHaveLength(1);
  });
});
