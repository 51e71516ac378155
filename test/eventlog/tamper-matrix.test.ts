import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from 'pg';
import {
  auditLog,
  CheckpointError,
  databaseIdentity,
  defaultCheckpointFile,
  envelopeHash,
  EVENT_COLUMNS,
  loadSigningKey,
  loadVerifyKey,
  publishLogCheckpoint,
  readLogCheckpoints,
  sha256Hex,
  tombstoneText,
  type LogVerifyKey,
  type NewEvent,
  type StoredRow,
} from '@recon/eventlog';
import { deleteRunContent } from '@recon/persistence';
import type { Producer } from '@recon/contracts';
import { auditRun, type RunAudit } from '@recon/audit';
import { syntheticRunBlobs } from '../../apps/cli/src/demo/synthetic-run';
import { asAttacker } from '../support/attacker';
import { createTestPlatform, type TestPlatform } from '../support/platform';
import { syntheticRunEvents, TEST_PRODUCER } from '../support/synthetic-run';

/**
 * The tamper matrix of issue 18, against a real PostgreSQL: every kind of change an attacker with write
 * access to the database can make, each on its own run, after the runs were signed in log checkpoints kept
 * outside the database. Every case must be detected by the audit `recon audit <run>` runs (auditRun), with
 * the first broken link (or blob) named exactly.
 *
 * The attacker bypasses the append-only guard as a superuser can (`asAttacker`: session_replication_role =
 * replica skips the triggers); re-chaining uses the project's own unkeyed functions (envelopeHash,
 * sha256Hex), as anyone reading this code could.
 */

/** Events per run: request, dataset, tokenizer, 5 SFT steps, checkpoint, 3 GRPO steps of 5, eval, done. */
const N = 26;
/** The runs are recorded in two halves with a checkpoint after each: signed heads at MID and N. */
const MID = 13;

type Expected =
  { check: string; position: number } | { blob: string; status: 'missing' | 'corrupt' } | 'checkpoint-file';

interface TamperCase {
  name: string;
  tamper: (runId: string, attacker: Client) => Promise<void>;
  expected: Expected;
}

const producerOf = (row: StoredRow) => JSON.parse(row.producer) as Producer;

/** Re-chains a stream after `mutate` with the project's own hash functions, and points its head at the new tail. */
async function rechain(
  attacker: Client,
  runId: string,
  mutate: (rows: StoredRow[]) => StoredRow[],
): Promise<void> {
  const { rows } = await attacker.query<StoredRow>(
    `SELECT ${EVENT_COLUMNS} FROM recon_events WHERE stream_id = $1 ORDER BY position`,
    [runId],
  );
  const globals = rows.map((row) => row.global_position);
  const changed = mutate(rows);
  let prevHash: string | null = null;
  changed.forEach((row, index) => {
    // Positions and global positions renumbered too, so nothing is out of order.
    row.position = index + 1;
    row.global_position = globals[index];
    if (!row.tombstoned_by) row.payload_hash = sha256Hex(row.payload);
    row.meta_hash = sha256Hex(row.meta);
    row.prev_hash = prevHash;
    row.hash = envelopeHash({
      eventId: row.event_id,
      streamId: row.stream_id,
      position: row.position,
      type: row.type,
      schemaVersion: row.schema_version,
      occurredAt: row.occurred_at,
      producer: producerOf(row),
      causationId: row.causation_id,
      correlationId: row.correlation_id,
      payloadHash: row.payload_hash,
      metaHash: row.meta_hash,
      prevHash,
    });
    prevHash = row.hash;
  });
  await attacker.query('DELETE FROM recon_events WHERE stream_id = $1', [runId]);
  for (const row of changed) {
    await attacker.query(
      `INSERT INTO recon_events (global_position, event_id, stream_id, position, type, schema_version, occurred_at,
         producer, causation_id, correlation_id, payload, meta, payload_hash, meta_hash, prev_hash, hash, tombstoned_by)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)`,
      [
        row.global_position,
        row.event_id,
        row.stream_id,
        row.position,
        row.type,
        row.schema_version,
        row.occurred_at,
        row.producer,
        row.causation_id,
        row.correlation_id,
        row.payload,
        row.meta,
        row.payload_hash,
        row.meta_hash,
        row.prev_hash,
        row.hash,
        row.tombstoned_by,
      ],
    );
  }
  await attacker.query('UPDATE recon_streams SET version = $2, last_hash = $3 WHERE stream_id = $1', [
    runId,
    changed.length,
    prevHash,
  ]);
}

const update = (sql: string) => async (runId: string, attacker: Client) => {
  const result = await attacker.query(sql, [runId]);
  if (result.rowCount === 0) throw new Error(`tamper statement changed nothing: ${sql}`);
};
/** Deletes the stream's last `count` events; `head`: leave the head row, point it at the new tail, or delete it. */
const truncate =
  (count: number, head: 'leave' | 'fix' | 'delete') => async (runId: string, attacker: Client) => {
    await attacker.query('DELETE FROM recon_events WHERE stream_id = $1 AND position > $2', [
      runId,
      N - count,
    ]);
    if (head === 'fix')
      await attacker.query(
        `UPDATE recon_streams s SET version = e.position, last_hash = e.hash FROM recon_events e
          WHERE s.stream_id = $1 AND e.stream_id = $1 AND e.position = $2`,
        [runId, N - count],
      );
    if (head === 'delete') await attacker.query('DELETE FROM recon_streams WHERE stream_id = $1', [runId]);
  };

const CASES: TamperCase[] = [
  {
    name: 'payload edited',
    tamper: update(
      `UPDATE recon_events SET payload = '{"step":2,"loss":0.001}' WHERE stream_id = $1 AND position = 5`,
    ),
    expected: { check: 'payload-hash', position: 5 },
  },
  {
    name: 'payload edited with its payload hash recomputed',
    tamper: update(
      `UPDATE recon_events SET payload = '{"forged":true}', payload_hash = encode(sha256('{"forged":true}'), 'hex') WHERE stream_id = $1 AND position = 6`,
    ),
    expected: { check: 'hash', position: 6 },
  },
  {
    name: 'meta edited',
    tamper: update(`UPDATE recon_events SET meta = '{"durationMs":1}' WHERE stream_id = $1 AND position = 7`),
    expected: { check: 'meta-hash', position: 7 },
  },
  {
    name: 'time edited',
    tamper: update(
      `UPDATE recon_events SET occurred_at = '2020-01-01T00:00:00.000Z' WHERE stream_id = $1 AND position = 8`,
    ),
    expected: { check: 'hash', position: 8 },
  },
  {
    name: 'type edited',
    tamper: update(`UPDATE recon_events SET type = 'run.failed' WHERE stream_id = $1 AND position = 26`),
    expected: { check: 'hash', position: 26 },
  },
  {
    name: 'producer edited',
    tamper: update(
      `UPDATE recon_events SET producer = '{"service":"training","version":"x","instance":"y"}' WHERE stream_id = $1 AND position = 4`,
    ),
    expected: { check: 'hash', position: 4 },
  },
  {
    name: 'schema version edited',
    tamper: update(`UPDATE recon_events SET schema_version = 2 WHERE stream_id = $1 AND position = 10`),
    expected: { check: 'hash', position: 10 },
  },
  {
    name: 'causation edited',
    tamper: update(`UPDATE recon_events SET causation_id = 'forged' WHERE stream_id = $1 AND position = 11`),
    expected: { check: 'hash', position: 11 },
  },
  {
    name: 'link (prev hash) edited',
    tamper: update(
      `UPDATE recon_events SET prev_hash = repeat('0', 64) WHERE stream_id = $1 AND position = 12`,
    ),
    expected: { check: 'prev-hash', position: 12 },
  },
  {
    name: 'first event deleted',
    tamper: update('DELETE FROM recon_events WHERE stream_id = $1 AND position = 1'),
    expected: { check: 'position', position: 1 },
  },
  {
    name: 'middle event deleted',
    tamper: update('DELETE FROM recon_events WHERE stream_id = $1 AND position = 14'),
    expected: { check: 'position', position: 14 },
  },
  {
    name: 'last 5 deleted, head left',
    tamper: truncate(5, 'leave'),
    expected: { check: 'signed-head', position: N - 4 },
  },
  {
    name: 'last 5 deleted, head pointed at the new tail',
    tamper: truncate(5, 'fix'),
    expected: { check: 'signed-head', position: N - 4 },
  },
  {
    name: 'last 5 deleted with the head row',
    tamper: truncate(5, 'delete'),
    expected: { check: 'signed-head', position: N - 4 },
  },
  {
    name: 'every event deleted with the head row',
    tamper: truncate(N, 'delete'),
    expected: { check: 'signed-head', position: 1 },
  },
  {
    name: 'head row deleted',
    tamper: update('DELETE FROM recon_streams WHERE stream_id = $1'),
    expected: { check: 'head', position: N },
  },
  {
    name: 'head row rewound',
    tamper: update(
      `UPDATE recon_streams s SET version = 20, last_hash = e.hash FROM recon_events e WHERE s.stream_id = $1 AND e.stream_id = $1 AND e.position = 20`,
    ),
    expected: { check: 'head', position: 20 },
  },
  {
    name: 'two events swapped',
    tamper: async (runId, attacker) => {
      await attacker.query('UPDATE recon_events SET position = 1000 WHERE stream_id = $1 AND position = 16', [
        runId,
      ]);
      await attacker.query('UPDATE recon_events SET position = 16 WHERE stream_id = $1 AND position = 17', [
        runId,
      ]);
      await attacker.query('UPDATE recon_events SET position = 17 WHERE stream_id = $1 AND position = 1000', [
        runId,
      ]);
    },
    expected: { check: 'prev-hash', position: 16 },
  },
  {
    name: 'event deleted and the rest renumbered',
    tamper: async (runId, attacker) => {
      await attacker.query('DELETE FROM recon_events WHERE stream_id = $1 AND position = 18', [runId]);
      for (let position = 19; position <= N; position += 1)
        await attacker.query('UPDATE recon_events SET position = $2 WHERE stream_id = $1 AND position = $3', [
          runId,
          position - 1,
          position,
        ]);
    },
    expected: { check: 'prev-hash', position: 18 },
  },
  {
    name: 'tombstone forged (no deletion event)',
    tamper: async (runId, attacker) => {
      const { rows } = await attacker.query<{ event_id: string }>(
        'SELECT event_id FROM recon_events WHERE stream_id = $1 AND position = 20',
        [runId],
      );
      await attacker.query(
        'UPDATE recon_events SET payload = $2::json, tombstoned_by = $3 WHERE stream_id = $1 AND position = 19',
        [runId, tombstoneText(rows[0].event_id), rows[0].event_id],
      );
    },
    expected: { check: 'tombstone', position: 19 },
  },
  {
    name: 'payload edited, every later hash re-chained, head fixed (signed head after the edit)',
    tamper: (runId, attacker) =>
      rechain(attacker, runId, (rows) => {
        rows[19].payload = '{"forged":true}';
        return rows;
      }),
    expected: { check: 'signed-head', position: N },
  },
  {
    name: 'payload edited before the first signed head, re-chained',
    tamper: (runId, attacker) =>
      rechain(attacker, runId, (rows) => {
        rows[3].payload = rows[3].payload.replace('"loss":', '"loss":0.5,"was":');
        return rows;
      }),
    expected: { check: 'signed-head', position: MID },
  },
  {
    name: 'event deleted, renumbered and re-chained',
    tamper: (runId, attacker) =>
      rechain(attacker, runId, (rows) => rows.filter((row) => row.position !== 22)),
    expected: { check: 'signed-head', position: N },
  },
  {
    name: 'last 5 deleted and re-chained (head fixed)',
    tamper: (runId, attacker) => rechain(attacker, runId, (rows) => rows.slice(0, N - 5)),
    expected: { check: 'signed-head', position: N - 4 },
  },
  {
    name: 'two events swapped and re-chained',
    tamper: (runId, attacker) =>
      rechain(attacker, runId, (rows) => [...rows.slice(0, 15), rows[16], rows[15], ...rows.slice(17)]),
    expected: { check: 'signed-head', position: N },
  },
  {
    name: 'meta and time edited, re-chained',
    tamper: (runId, attacker) =>
      rechain(attacker, runId, (rows) => {
        rows[24].meta = '{"note":"forged"}';
        rows[24].occurred_at = '2020-01-01T00:00:00.000Z';
        return rows;
      }),
    expected: { check: 'signed-head', position: N },
  },
  {
    name: 'withdrawn event: tombstone edited back to content',
    // This run withdrew its event at position 5 (a recorded deletion at position N + 1) before it was signed.
    tamper: update(
      `UPDATE recon_events SET payload = '{"step":1,"loss":3}' WHERE stream_id = $1 AND position = 5`,
    ),
    expected: { check: 'tombstone', position: 5 },
  },
  {
    name: 'checkpoint blob: a byte flipped',
    tamper: async (runId) => flipByte(blobs.get(runId)!.checkpoint),
    expected: { blob: 'checkpoint', status: 'corrupt' },
  },
  {
    name: 'checkpoint blob deleted',
    tamper: async (runId) => removeBlob(blobs.get(runId)!.checkpoint),
    expected: { blob: 'checkpoint', status: 'missing' },
  },
  {
    name: 'tokenizer blob: a byte flipped',
    tamper: async (runId) => flipByte(blobs.get(runId)!.tokenizer),
    expected: { blob: 'tokenizer', status: 'corrupt' },
  },
  {
    name: 'tokenizer blob deleted',
    tamper: async (runId) => removeBlob(blobs.get(runId)!.tokenizer),
    expected: { blob: 'tokenizer', status: 'missing' },
  },
  {
    name: 'dataset blob: a byte flipped',
    tamper: async (runId) => flipByte(blobs.get(runId)!.dataset),
    expected: { blob: 'dataset', status: 'corrupt' },
  },
  {
    name: 'dataset blob deleted',
    tamper: async (runId) => removeBlob(blobs.get(runId)!.dataset),
    expected: { blob: 'dataset', status: 'missing' },
  },
];

let platform: TestPlatform;
let home: string;
let verifyKey: LogVerifyKey;
const blobs = new Map<string, { checkpoint: string; tokenizer: string; dataset: string }>();
const blobPath = (hash: string) => join(platform.blobDir, hash.slice(0, 2), hash.slice(2));
function flipByte(hash: string): void {
  const bytes = readFileSync(blobPath(hash));
  bytes[bytes.length >> 1] ^= 0x01;
  writeFileSync(blobPath(hash), bytes);
}
const removeBlob = (hash: string) => rmSync(blobPath(hash));

/** A synthetic run whose dataset, tokenizer and checkpoint blobs are really stored. */
async function runEvents(runId: string): Promise<NewEvent[]> {
  const dataset = await platform.blobStore.put(
    JSON.stringify({ kind: 'problems', rows: [{ id: runId, gold: '1' }] }),
  );
  const tokenizer = await platform.blobStore.put(JSON.stringify({ merges: [], vocab: runId }));
  const [checkpoint] = await Promise.all(
    syntheticRunBlobs(runId).map((blob) => platform.blobStore.put(blob)),
  );
  blobs.set(runId, { checkpoint, tokenizer, dataset });
  const [requested, ...rest] = syntheticRunEvents(runId);
  return [
    requested,
    {
      type: 'dataset.resolved',
      payload: {
        datasets: [
          {
            role: 'sft',
            name: 'tiny',
            versionHash: sha256Hex(runId),
            blobHash: dataset,
            split: 'sft',
            rowCount: 1,
          },
        ],
      },
    },
    {
      type: 'tokenizer.trained',
      payload: { tokenizerHash: tokenizer, vocabSize: 260, corpusHash: sha256Hex(`corpus ${runId}`) },
    },
    ...rest,
  ];
}

const runIdOf = (index: number) => `tamper-${index}`;

beforeAll(async () => {
  home = mkdtempSync(join(tmpdir(), 'recon-tamper-home-'));
  platform = await createTestPlatform({ home });
  const key = loadSigningKey(home, {});
  verifyKey = loadVerifyKey(home, { env: {} })!;
  const file = defaultCheckpointFile(home, {});
  const append = (runId: string, events: NewEvent[]) =>
    platform.eventStore.append(runId, events, { expectedVersion: 'any', producer: TEST_PRODUCER });
  const all = await Promise.all(CASES.map((_, index) => runEvents(runIdOf(index))));
  for (const [index, events] of all.entries()) await append(runIdOf(index), events.slice(0, MID));
  expect((await publishLogCheckpoint(platform.pool, { file, key })).published).toBe(true);
  for (const [index, events] of all.entries()) await append(runIdOf(index), events.slice(MID));
  const withdrawing = CASES.findIndex((c) => c.name.startsWith('withdrawn event'));
  const [withdrawn] = await platform.eventStore.readStream(runIdOf(withdrawing), {
    fromPosition: 5,
    toPosition: 5,
  });
  await deleteRunContent(
    platform,
    { runId: runIdOf(withdrawing), eventIds: [withdrawn.eventId], reason: 'test', actor: 'test' },
    TEST_PRODUCER,
  );
  expect((await publishLogCheckpoint(platform.pool, { file, key })).published).toBe(true);
}, 120_000);

afterAll(async () => {
  await platform.close();
  rmSync(home, { recursive: true, force: true });
});

const audit = (runId: string, file = defaultCheckpointFile(home, {})): Promise<RunAudit> =>
  auditRun(platform, runId, { checkpoints: { file, key: verifyKey } });

describe('tamper matrix: every change to a signed log or its blobs is detected and named', () => {
  it('passes every run before tampering, each through both of its signed heads', async () => {
    for (let index = 0; index < CASES.length; index += 1) {
      const result = await audit(runIdOf(index));
      expect(result.ok).toBe(true);
      expect(result.checkpoint).toMatchObject({ status: 'verified', through: { sequence: 2 } });
      expect(result.blobs.checks.map((c) => [c.reference.kind, c.status])).toEqual([
        ['dataset', 'intact'],
        ['tokenizer', 'intact'],
        ['checkpoint', 'intact'],
      ]);
    }
    const log = await auditLog(
      platform.pool,
      readLogCheckpoints(defaultCheckpointFile(home, {}), await databaseIdentity(platform.pool), verifyKey),
    );
    expect(log).toMatchObject({ ok: true, signedThrough: { sequence: 2 } });
  });

  it('detects each tampering, naming the first broken link or blob', async () => {
    const outcomes: string[] = [];
    let detected = 0;
    for (const [index, tamperCase] of CASES.entries()) {
      const runId = runIdOf(index);
      await asAttacker(platform.databaseUrl, (attacker) => tamperCase.tamper(runId, attacker));
      const result = await audit(runId);
      const expected = tamperCase.expected as Exclude<Expected, 'checkpoint-file'>;
      const named =
        'check' in expected
          ? result.chain.firstBroken !== null &&
            result.chain.firstBroken.check === expected.check &&
            result.chain.firstBroken.position === expected.position
          : result.blobs.firstProblem !== null &&
            result.blobs.firstProblem.reference.kind === expected.blob &&
            result.blobs.firstProblem.status === expected.status;
      if (!result.ok && named) detected += 1;
      else
        outcomes.push(
          `${tamperCase.name}: expected ${JSON.stringify(expected)}, got ok=${result.ok} ` +
            `${JSON.stringify(result.chain.firstBroken)} ${JSON.stringify(result.blobs.firstProblem)}`,
        );
    }
    // Tampering with the kept checkpoints themselves: a line's content, and a whole line.
    const file = defaultCheckpointFile(home, {});
    const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
    const edited = join(home, 'edited.jsonl');
    writeFileSync(edited, `${lines[0].replace(/"version":13/, '"version":12')}\n${lines[1]}\n`);
    const removed = join(home, 'removed.jsonl');
    writeFileSync(removed, `${lines[1]}\n`);
    for (const [name, copy, message] of [
      ['checkpoint line edited', edited, /edited\.jsonl:1: the signature of checkpoint #1 does not verify/],
      ['checkpoint line removed', removed, /removed\.jsonl:1: checkpoint #2 does not follow #0/],
    ] as const) {
      const error = await audit(runIdOf(0), copy).then(
        () => null,
        (e: unknown) => e,
      );
      if (error instanceof CheckpointError && message.test(error.message)) detected += 1;
      else outcomes.push(`${name}: expected CheckpointError ${message}, got ${String(error)}`);
    }
    const total = CASES.length + 2;
    process.stdout.write(`tamper: ${total} cases, ${detected} detected\n`);
    expect(outcomes).toEqual([]);
    expect(detected).toBe(total);
  });

  it('refuses to sign a log that does not extend the last checkpoint, naming the break', async () => {
    // After the matrix, appending to a tampered run (the last 5 deleted, head fixed) and signing again fails.
    const truncated = CASES.findIndex((c) => c.name === 'last 5 deleted, head pointed at the new tail');
    await platform.eventStore.append(
      runIdOf(truncated),
      [{ type: 'run.failed', payload: { phase: 'x', error: 'y' } }],
      {
        expectedVersion: 'any',
        producer: TEST_PRODUCER,
      },
    );
    await expect(
      publishLogCheckpoint(platform.pool, {
        file: defaultCheckpointFile(home, {}),
        key: loadSigningKey(home, {}),
      }),
    ).rejects.toThrow(
      new RegExp(
        `refusing to sign: stream '${runIdOf(truncated)}' position 27 \\(event [0-9a-f-]+\\): position: expected 27, found 22`,
      ),
    );
  });
});
