import { randomUUID } from 'node:crypto';
import { ContentDeletionError, auditStream, tombstoneText } from '@recon/eventlog';
import { deleteRunContent } from '@recon/persistence';
import { tamper } from '../support/attacker';
import { createTestPlatform, type TestPlatform } from '../support/platform';
import { syntheticRunEvents, TEST_PRODUCER } from '../support/synthetic-run';

describe('content deletion (tombstones) keeps audits working', () => {
  let platform: TestPlatform;
  beforeAll(async () => {
    platform = await createTestPlatform();
  });
  afterAll(async () => {
    await platform.close();
  });

  const record = async (runId: string) => {
    const events = await platform.eventStore.append(runId, syntheticRunEvents(runId), {
      expectedVersion: 'no-stream',
      producer: TEST_PRODUCER,
    });
    await platform.projections.catchUp();
    return events;
  };

  it('withdraws events and blobs, rebuilds the read models without them, and the chain still verifies', async () => {
    const events = await record('run-withdraw');
    const blob = await platform.blobStore.put('a dataset that must be withdrawn');
    const result = await deleteRunContent(
      platform,
      { runId: 'run-withdraw', types: ['rollout.generated'], blobHashes: [blob], reason: 'licence withdrawn', actor: 'test' },
      TEST_PRODUCER,
    );
    expect(result.eventIds).toHaveLength(6);
    expect(await platform.blobStore.has(blob)).toBe(false);
    const rollouts = await platform.pool.query(`SELECT count(*)::int AS n FROM rollouts WHERE run_id = 'run-withdraw'`);
    expect(rollouts.rows[0].n).toBe(0);
    const stored = await platform.eventStore.readStream('run-withdraw', { types: ['rollout.generated'] });
    expect(stored.every((e) => e.tombstonedBy === result.deletion.eventId)).toBe(true);
    expect(JSON.stringify(stored)).not.toContain('<think>');
    const audit = await auditStream(platform.pool, 'run-withdraw');
    expect(audit).toMatchObject({ ok: true, tombstoned: 6, eventsChecked: events.length + 1 });
    expect((await platform.projections.rebuild('run-withdraw')).identical).toBe(true);
    await expect(
      deleteRunContent(platform, { runId: 'run-withdraw', eventIds: [stored[0].eventId], reason: 'again', actor: 'test' }, TEST_PRODUCER),
    ).rejects.toThrow(/is already deleted/);
    await expect(
      deleteRunContent(platform, { runId: 'run-withdraw', eventIds: [randomUUID()], reason: 'x', actor: 'test' }, TEST_PRODUCER),
    ).rejects.toBeInstanceOf(ContentDeletionError);
  });

  it('detects a tombstone no recorded deletion authorised, and an edited tombstone', async () => {
    const events = await record('run-forged');
    // The append-only guard refuses this UPDATE; an attacker with database access turns it off first.
    await tamper(platform.databaseUrl, 'UPDATE recon_events SET payload = $2::json, tombstoned_by = $3 WHERE event_id = $1', [
      events[4].eventId,
      tombstoneText(events[9].eventId),
      events[9].eventId,
    ]);
    const forged = await auditStream(platform.pool, 'run-forged');
    expect(forged.firstBroken).toMatchObject({ position: 5, check: 'tombstone', eventId: events[4].eventId });

    const other = await record('run-edited-tombstone');
    const result = await deleteRunContent(
      platform,
      { runId: 'run-edited-tombstone', eventIds: [other[3].eventId], reason: 'r', actor: 'test' },
      TEST_PRODUCER,
    );
    await tamper(platform.databaseUrl, `UPDATE recon_events SET payload = '{"loss":0}' WHERE event_id = $1`, [other[3].eventId]);
    const edited = await auditStream(platform.pool, 'run-edited-tombstone');
    expect(edited.firstBroken).toMatchObject({ position: 4, check: 'tombstone', expected: tombstoneText(result.deletion.eventId) });
  });
});
