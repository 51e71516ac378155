import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  auditLog,
  CheckpointError,
  checkpointSignatureValid,
  databaseIdentity,
  loadSigningKey,
  loadVerifyKey,
  publishLogCheckpoint,
  readLogCheckpoints,
  signingKeyFiles,
  tombstoneText,
} from '@recon/eventlog';
import { PROJECTION_PROCESSOR_LOCK } from '@recon/persistence';
import { asAttacker, tamper } from '../support/attacker';
import { createTestPlatform, type TestPlatform } from '../support/platform';
import { syntheticRunEvents, TEST_PRODUCER } from '../support/synthetic-run';

describe('the append-only guard of the log (migration AppendOnlyLog)', () => {
  let platform: TestPlatform;
  beforeAll(async () => {
    platform = await createTestPlatform();
  });
  afterAll(async () => {
    await platform.close();
  });

  it('refuses UPDATE, DELETE and TRUNCATE of events and any move of a head backwards', async () => {
    const events = await platform.eventStore.append('guarded', syntheticRunEvents('guarded'), {
      expectedVersion: 'no-stream',
      producer: TEST_PRODUCER,
    });
    const target = events[3];
    const refused = async (sql: string, values: unknown[] = []) =>
      platform.pool.query(sql, values).then(
        () => 'accepted',
        (error: Error) => error.message,
      );
    expect(
      await refused(`UPDATE recon_events SET payload = '{}' WHERE event_id = $1`, [target.eventId]),
    ).toBe(
      `recon_events is append-only: UPDATE of event ${target.eventId} (stream guarded, position 4) refused`,
    );
    expect(await refused('DELETE FROM recon_events WHERE event_id = $1', [target.eventId])).toMatch(
      /append-only: DELETE of event .* refused/,
    );
    expect(await refused('TRUNCATE recon_events')).toBe('recon_events is append-only: TRUNCATE refused');
    expect(await refused(`UPDATE recon_streams SET version = 3 WHERE stream_id = 'guarded'`)).toBe(
      'recon_streams is append-only: UPDATE refused',
    );
    expect(await refused(`DELETE FROM recon_streams WHERE stream_id = 'guarded'`)).toBe(
      'recon_streams is append-only: DELETE refused',
    );
    expect(await refused('UPDATE recon_log_head SET global_position = 1')).toBe(
      'recon_log_head is append-only: UPDATE refused',
    );
    // The withdrawal setting alone does not let a tombstone through: a later deletion event must list it.
    const client = await platform.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query(`SELECT set_config('recon.withdrawal', $1, true)`, [events[9].eventId]);
      const forged = await client
        .query('UPDATE recon_events SET payload = $2::json, tombstoned_by = $3 WHERE event_id = $1', [
          target.eventId,
          tombstoneText(events[9].eventId),
          events[9].eventId,
        ])
        .then(
          () => 'accepted',
          (error: Error) => error.message,
        );
      expect(forged).toMatch(/append-only: UPDATE of event .* refused/);
    } finally {
      await client.query('ROLLBACK');
      client.release();
    }
    expect(await platform.eventStore.readStream('guarded')).toEqual(events);
  });
});

describe('log checkpoints: signed outside the database, verified by the public key alone', () => {
  let platform: TestPlatform;
  let home: string;
  beforeAll(async () => {
    home = mkdtempSync(join(tmpdir(), 'recon-checkpoints-'));
    platform = await createTestPlatform({ home });
  });
  afterAll(async () => {
    await platform.close();
    rmSync(home, { recursive: true, force: true });
  });
  const file = () => join(home, 'log-checkpoints.jsonl');
  const append = (runId: string) =>
    platform.eventStore.append(runId, syntheticRunEvents(runId), {
      expectedVersion: 'any',
      producer: TEST_PRODUCER,
    });
  const signed = async (publicKeyFile?: string) =>
    readLogCheckpoints(
      file(),
      await databaseIdentity(platform.pool),
      loadVerifyKey(home, { publicKeyFile, env: {} }),
    );

  it('creates the signing key with mode 0600, chains checkpoints, and signs nothing twice', async () => {
    await append('log-a');
    const key = loadSigningKey(home, {});
    expect(statSync(signingKeyFiles(home).privateKey).mode & 0o777).toBe(0o600);
    const first = await publishLogCheckpoint(platform.pool, { file: file(), key });
    expect(first).toMatchObject({ published: true, checkpoint: { sequence: 1, previous: null } });
    expect(Object.keys(first.checkpoint.streams)).toEqual(['log-a']);
    expect((await publishLogCheckpoint(platform.pool, { file: file(), key })).published).toBe(false);
    await append('log-b');
    await append('log-c');
    const both = await Promise.all(
      [1, 2].map(() => publishLogCheckpoint(platform.pool, { file: file(), key })),
    );
    // Concurrent publishers take turns: one signs, the other finds nothing new; the file stays one chain.
    expect(both.map((p) => p.published).sort()).toEqual([false, true]);
    expect(both.map((p) => p.checkpoint.sequence)).toEqual([2, 2]);
    const state = await signed();
    expect(state.checkpoints.map((c) => c.sequence)).toEqual([1, 2]);
    expect([...state.streams.keys()].sort()).toEqual(['log-a', 'log-b', 'log-c']);
    // The public key alone verifies them (a reviewer without the private key or the home).
    const publicOnly = join(home, 'reviewer.pub.pem');
    writeFileSync(publicOnly, readFileSync(signingKeyFiles(home).publicKey));
    expect((await signed(publicOnly)).latest?.sequence).toBe(2);
    expect(checkpointSignatureValid(state.latest!, loadVerifyKey(home, { publicKeyFile: publicOnly })!)).toBe(
      true,
    );
  });

  it('signs while a projection processor holds its lock (the gateway runs one for as long as it is up)', async () => {
    await append('log-while-projecting');
    const processor = await platform.pool.connect();
    try {
      const held = await processor.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1) AS locked', [
        PROJECTION_PROCESSOR_LOCK,
      ]);
      expect(held.rows[0].locked).toBe(true);
      // It waited on that lock for good when both used the key 7_224_032.
      const signedNow = await publishLogCheckpoint(platform.pool, { file: file(), key: loadSigningKey(home, {}) });
      expect(signedNow.published).toBe(true);
    } finally {
      await processor.query('SELECT pg_advisory_unlock_all()');
      processor.release();
    }
  });

  it('takes the key from RECON_LOG_SIGNING_KEY, and refuses checkpoints signed by another key', async () => {
    const pem = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const injected = loadSigningKey(home, { RECON_LOG_SIGNING_KEY: pem });
    expect(injected.source).toBe('RECON_LOG_SIGNING_KEY');
    expect(injected.keyId).not.toBe(loadSigningKey(home, {}).keyId);
    await expect(publishLogCheckpoint(platform.pool, { file: file(), key: injected })).rejects.toThrow(
      /log-checkpoints\.jsonl:1: signed by key [0-9a-f]{16}, not by the verification key/,
    );
    expect(() => loadSigningKey(home, { RECON_LOG_SIGNING_KEY: 'not a key' })).toThrow(
      /RECON_LOG_SIGNING_KEY: not a PEM private key/,
    );
  });

  it('verifies the whole log against its signed heads: a cut tail with every head moved back, and a gap', async () => {
    await append('log-d');
    await publishLogCheckpoint(platform.pool, { file: file(), key: loadSigningKey(home, {}) });
    expect(await auditLog(platform.pool, await signed())).toMatchObject({
      ok: true,
      signedThrough: { sequence: 4 },
    });

    // The log's last two events cut, and every head moved back to match.
    const head = Number(
      (await platform.pool.query('SELECT global_position FROM recon_log_head')).rows[0].global_position,
    );
    await asAttacker(platform.databaseUrl, async (attacker) => {
      await attacker.query('DELETE FROM recon_events WHERE global_position > $1', [head - 2]);
      await attacker.query('UPDATE recon_log_head SET global_position = $1', [head - 2]);
      await attacker.query(
        `UPDATE recon_streams s SET version = e.position, last_hash = e.hash FROM recon_events e
          WHERE s.stream_id = 'log-d' AND e.global_position = $1`,
        [head - 2],
      );
    });
    expect((await auditLog(platform.pool, await signed())).firstBroken).toMatchObject({
      check: 'signed-log-head',
      globalPosition: head - 1,
      found: `the log ends at global position ${head - 2}`,
    });
    await expect(
      publishLogCheckpoint(platform.pool, { file: file(), key: loadSigningKey(home, {}) }),
    ).rejects.toThrow(CheckpointError);

    // An event in the middle of the log deleted: the global sequence has a gap there.
    const [victim] = await platform.eventStore.readStream('log-b', { fromPosition: 3, toPosition: 3 });
    await tamper(platform.databaseUrl, 'DELETE FROM recon_events WHERE event_id = $1', [victim.eventId]);
    expect((await auditLog(platform.pool, await signed())).firstBroken).toMatchObject({
      check: 'global-position',
      globalPosition: victim.globalPosition,
    });
  });
});
