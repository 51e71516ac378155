import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  appendCheckpoint,
  auditLog,
  CHECKPOINT_FORMAT_V1,
  databaseIdentity,
  eventLeaf,
  loadSigningKey,
  MerkleTree,
  publishLogCheckpoint,
  readLogCheckpoints,
  signCheckpoint,
} from '@recon/eventlog';
import { tamper } from '../support/attacker';
import { createTestPlatform, type TestPlatform } from '../support/platform';
import { syntheticRunEvents, TEST_PRODUCER } from '../support/synthetic-run';

/**
 * Checkpoints sign the RFC 9162 Merkle root of the whole log (format 2), continued from the frontier of the
 * previous checkpoint; a database whose latest checkpoint predates the tree (format 1) gets its tree rebuilt
 * once, from event hashes that must still fold to what that checkpoint signed.
 */
describe('the Merkle root in log checkpoints', () => {
  let platform: TestPlatform;
  let home: string;
  const file = () => join(home, 'log-checkpoints.jsonl');
  const append = (runId: string) =>
    platform.eventStore.append(runId, syntheticRunEvents(runId, { sftSteps: 2, grpoSteps: 1 }), {
      expectedVersion: 'any',
      producer: TEST_PRODUCER,
    });
  /** The Merkle root over every event hash in the database, computed here from scratch. */
  const rootOfDatabase = async () => {
    const { rows } = await platform.pool.query<{ hash: string }>(
      'SELECT hash FROM recon_events ORDER BY global_position',
    );
    return new MerkleTree(rows.map((row) => eventLeaf(row.hash))).root().toString('hex');
  };

  beforeEach(async () => {
    home = mkdtempSync(join(tmpdir(), 'recon-merkle-'));
    platform = await createTestPlatform({ home });
  });
  afterEach(async () => {
    await platform.close();
    rmSync(home, { recursive: true, force: true });
  });

  /** A format-1 checkpoint of the whole log as it is now, as the previous release signed them. */
  const signFormatOne = async () => {
    const log = await auditLog(platform.pool);
    const checkpoint = signCheckpoint(
      {
        format: CHECKPOINT_FORMAT_V1,
        database: await databaseIdentity(platform.pool),
        sequence: 1,
        previous: null,
        signedAt: new Date().toISOString(),
        log: { position: log.position, hash: log.logHash },
        streams: {},
      },
      loadSigningKey(home, {}),
    );
    appendCheckpoint(file(), checkpoint);
    return checkpoint;
  };

  it('signs the root of the whole log, continued checkpoint after checkpoint, and verifies it in audit --all', async () => {
    await append('m-a');
    const key = loadSigningKey(home, {});
    const first = await publishLogCheckpoint(platform.pool, { file: file(), key });
    expect(first.checkpoint.format).toBe('recon.log-checkpoint/2');
    expect(first.checkpoint.log.merkle!.root).toBe(await rootOfDatabase());
    await append('m-b');
    await append('m-c');
    const second = await publishLogCheckpoint(platform.pool, { file: file(), key });
    expect(second.eventsVerified).toBe(second.checkpoint.log.position - first.checkpoint.log.position);
    expect(second.checkpoint.log.merkle!.root).toBe(await rootOfDatabase());
    const signed = readLogCheckpoints(file(), await databaseIdentity(platform.pool), key);
    expect(await auditLog(platform.pool, signed)).toMatchObject({
      ok: true,
      signedThrough: { sequence: 2 },
      merkle: { root: second.checkpoint.log.merkle!.root },
    });
  });

  it('continues a log whose latest checkpoint is format 1 with the Merkle root of the whole log', async () => {
    await append('m-old');
    await signFormatOne();
    await append('m-new');
    const next = await publishLogCheckpoint(platform.pool, { file: file(), key: loadSigningKey(home, {}) });
    expect(next.checkpoint).toMatchObject({ sequence: 2, format: 'recon.log-checkpoint/2' });
    expect(next.checkpoint.log.merkle!.root).toBe(await rootOfDatabase());
    expect(
      readLogCheckpoints(file(), next.checkpoint.database, loadSigningKey(home, {})).checkpoints,
    ).toHaveLength(2);
  });

  it('refuses to rebuild the tree of a format-1 checkpoint from events changed since it was signed', async () => {
    await append('m-old');
    await signFormatOne();
    await append('m-new');
    await tamper(
      platform.databaseUrl,
      `UPDATE recon_events SET hash = md5(hash) || md5(hash) WHERE stream_id = 'm-old' AND position = 2`,
    );
    await expect(
      publishLogCheckpoint(platform.pool, { file: file(), key: loadSigningKey(home, {}) }),
    ).rejects.toThrow(
      /^refusing to sign: the log up to global position \d+ is not the one log checkpoint #1 signed$/,
    );
  });
});
