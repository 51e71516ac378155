import { auditStream } from '@recon/eventlog';
import { tamper } from '../support/attacker';
import { createTestPlatform, type TestPlatform } from '../support/platform';
import { syntheticRunEvents, TEST_PRODUCER } from '../support/synthetic-run';

/** Tampering goes through `tamper`, which turns the append-only guard off as an attacker with database access would. */
describe('recon audit: hash-chain verification against direct database tampering', () => {
  let platform: TestPlatform;
  beforeAll(async () => {
    platform = await createTestPlatform();
  });
  afterAll(async () => {
    await platform.close();
  });

  const record = async (runId: string) =>
    platform.eventStore.append(runId, syntheticRunEvents(runId), { expectedVersion: 'no-stream', producer: TEST_PRODUCER });

  it('passes an untouched run', async () => {
    const events = await record('run-clean');
    const result = await auditStream(platform.pool, 'run-clean');
    expect(result).toMatchObject({ ok: true, eventsChecked: events.length, firstBroken: null });
    expect(result.headHash).toBe(events[events.length - 1].hash);
  });

  it('detects an edited payload at its position', async () => {
    const events = await record('run-edit');
    const target = events[3];
    await tamper(
      platform.databaseUrl,
      `UPDATE recon_events SET payload = json_build_object('step', 2, 'loss', 0.001) WHERE event_id = $1`,
      [target.eventId],
    );
    const result = await auditStream(platform.pool, 'run-edit');
    expect(result.ok).toBe(false);
    expect(result.firstBroken).toMatchObject({ position: 4, eventId: target.eventId, check: 'payload-hash' });
    expect(result.firstBroken?.expected).toBe(target.payloadHash);
  });

  it('detects an edited payload whose stored hash was also recomputed', async () => {
    const events = await record('run-rehash');
    const target = events[2];
    await tamper(
      platform.databaseUrl,
      `UPDATE recon_events SET payload = '{"forged":true}', payload_hash = encode(sha256('{"forged":true}'), 'hex')
        WHERE event_id = $1`,
      [target.eventId],
    );
    const result = await auditStream(platform.pool, 'run-rehash');
    expect(result.firstBroken).toMatchObject({ position: 3, check: 'hash', eventId: target.eventId });
  });

  it('detects a deleted event in the middle and a deleted tail', async () => {
    const events = await record('run-delete');
    await tamper(platform.databaseUrl, 'DELETE FROM recon_events WHERE event_id = $1', [events[5].eventId]);
    const result = await auditStream(platform.pool, 'run-delete');
    expect(result.firstBroken).toMatchObject({ position: 6, check: 'position', expected: '6', found: '7' });

    const tail = await record('run-tail');
    await tamper(platform.databaseUrl, 'DELETE FROM recon_events WHERE event_id = $1', [tail[tail.length - 1].eventId]);
    const tailResult = await auditStream(platform.pool, 'run-tail');
    expect(tailResult.firstBroken).toMatchObject({ position: tail.length, check: 'head' });
  });

  it('detects two events swapped in order', async () => {
    const events = await record('run-swap');
    const [a, b] = [events[4], events[5]];
    // (stream, position) is unique, so the swap goes through a free position
    await tamper(platform.databaseUrl, 'UPDATE recon_events SET position = 100000 WHERE event_id = $1', [a.eventId]);
    await tamper(platform.databaseUrl, 'UPDATE recon_events SET position = $2 WHERE event_id = $1', [b.eventId, a.position]);
    await tamper(platform.databaseUrl, 'UPDATE recon_events SET position = $2 WHERE event_id = $1', [a.eventId, b.position]);
    const result = await auditStream(platform.pool, 'run-swap');
    expect(result.ok).toBe(false);
    expect(result.firstBroken).toMatchObject({ position: 5, eventId: b.eventId });
  });
});
