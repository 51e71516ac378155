import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Client } from 'pg';
import { createHash } from 'node:crypto';
import {
  checkpointSignatureValid,
  envelopeHash,
  EVENT_COLUMNS,
  loadVerifyKey,
  sha256Hex,
  type LogCheckpoint,
  type StoredRow,
} from '@recon/eventlog';
import { scratchServerUrl } from '@recon/persistence';
import type { Producer } from '@recon/contracts';
import { asAttacker, tamper } from '../support/attacker';
import { runRecon } from '../support/recon-cli';

/**
 * The three tamperings `recon audit` passed in issue 18, through the CLI: a run's last 5 events deleted with
 * its head pointed at the new tail, the same with the head row deleted, and a payload edited with every later
 * hash re-chained. `recon demo` signs a log checkpoint when it ends; the audit verifies against it. The
 * attacker turns the append-only guard off first (asAttacker), as a superuser can.
 */
describe('recon audit against a signed log checkpoint', () => {
  const database = `recon_audit_cli_${process.pid}`;
  let url: string;
  let home: string;
  let env: Record<string, string | undefined>;
  const admin = async (sql: string) => {
    const client = new Client({ connectionString: scratchServerUrl() });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  beforeAll(async () => {
    if (!existsSync(resolve(__dirname, '../../dist/apps/cli/src/main.js')))
      throw new Error('the CLI is not built: run `npm run build` (npm test does)');
    await admin(`CREATE DATABASE ${database}`);
    const parsed = new URL(scratchServerUrl());
    parsed.pathname = `/${database}`;
    url = parsed.toString();
    home = mkdtempSync(join(tmpdir(), 'recon-audit-home-'));
    env = { DATABASE_URL: url, RECON_HOME: home, RECON_BLOB_DIR: undefined };
    expect((await runRecon(['migrate'], env)).code).toBe(0);
    for (const run of ['cut-fixed', 'cut-headless', 'rechained', 'blobless']) {
      const demo = await runRecon(['demo', '--run-id', run, '--sft-steps', '3', '--grpo-steps', '2'], env);
      expect(demo.stderr).toBe('');
      expect(demo.code).toBe(0);
    }
  }, 180_000);
  afterAll(async () => {
    await admin(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    rmSync(home, { recursive: true, force: true });
  });

  it('passes an untouched run through its signed head, with its blob', async () => {
    const audit = await runRecon(['audit', 'blobless'], env);
    expect(audit.code).toBe(0);
    expect(audit.stdout).toMatch(/hash chain intact \(17 events/);
    expect(audit.stdout).toMatch(
      /signed: matches log checkpoint #4 of .* \(key [0-9a-f]{16}\) at position 17/,
    );
    expect(audit.stdout).toContain(
      'blobs:  1 referenced (1 checkpoint): all present, content hashes verified',
    );
    // The report carries the signed checkpoint itself: the public key alone verifies it.
    const report = await runRecon(['audit', 'blobless', '--report'], env);
    expect(report.code).toBe(0);
    const published = JSON.parse(/```json\n(.*)\n```/.exec(report.stdout)![1]) as LogCheckpoint;
    expect(published).toMatchObject({ sequence: 4, streams: { blobless: { version: 17 } } });
    const publicKey = loadVerifyKey(home, { publicKeyFile: join(home, 'log-signing-key.pub.pem') })!;
    expect(checkpointSignatureValid(published, publicKey)).toBe(true);
    expect(checkpointSignatureValid({ ...published, signedAt: 'later' }, publicKey)).toBe(false);
  });

  it('detects the last 5 events deleted with the head pointed at the new tail', async () => {
    await tamper(url, `DELETE FROM recon_events WHERE stream_id = 'cut-fixed' AND position > 12`);
    await tamper(
      url,
      `UPDATE recon_streams s SET version = 12, last_hash = e.hash FROM recon_events e
        WHERE s.stream_id = 'cut-fixed' AND e.stream_id = 'cut-fixed' AND e.position = 12`,
    );
    const audit = await runRecon(['audit', 'cut-fixed'], env);
    expect(audit.code).toBe(1);
    expect(audit.stdout).toContain('first broken link at position 13 (event -)');
    expect(audit.stdout).toContain('check:    signed-head');
    expect(audit.stdout).toMatch(/found: +the stream ends at position 12/);
  });

  it('detects the last 5 events deleted together with the head row', async () => {
    await tamper(url, `DELETE FROM recon_events WHERE stream_id = 'cut-headless' AND position > 12`);
    await tamper(url, `DELETE FROM recon_streams WHERE stream_id = 'cut-headless'`);
    const audit = await runRecon(['audit', 'cut-headless', '--json'], env);
    expect(audit.code).toBe(1);
    expect(JSON.parse(audit.stdout)).toMatchObject({
      ok: false,
      firstBroken: { position: 13, check: 'signed-head' },
    });
  });

  it('detects a payload edit with every later hash re-chained by the project’s own functions', async () => {
    await asAttacker(url, async (attacker) => {
      const { rows } = await attacker.query<StoredRow>(
        `SELECT ${EVENT_COLUMNS} FROM recon_events WHERE stream_id = 'rechained' ORDER BY position`,
      );
      let prevHash: string | null = null;
      for (const row of rows) {
        const payload =
          row.position === 3 ? row.payload.replace(/"loss":[0-9.]+/, '"loss":0.001') : row.payload;
        const payloadHash = sha256Hex(payload);
        const hash = envelopeHash({
          eventId: row.event_id,
          streamId: row.stream_id,
          position: row.position,
          type: row.type,
          schemaVersion: row.schema_version,
          occurredAt: row.occurred_at,
          producer: JSON.parse(row.producer) as Producer,
          causationId: row.causation_id,
          correlationId: row.correlation_id,
          payloadHash,
          metaHash: row.meta_hash,
          prevHash,
        });
        await attacker.query(
          'UPDATE recon_events SET payload = $2, payload_hash = $3, prev_hash = $4, hash = $5 WHERE event_id = $1',
          [row.event_id, payload, payloadHash, prevHash, hash],
        );
        prevHash = hash;
      }
      await attacker.query(`UPDATE recon_streams SET last_hash = $1 WHERE stream_id = 'rechained'`, [
        prevHash,
      ]);
    });
    const audit = await runRecon(['audit', 'rechained'], env);
    expect(audit.code).toBe(1);
    expect(audit.stdout).toContain('first broken link at position 17');
    expect(audit.stdout).toMatch(/check: +signed-head/);
    expect(audit.stdout).toMatch(/expected: hash [0-9a-f]{64} \(signed in log checkpoint #3 of /);
    // So does the report, and the whole-log audit.
    const report = await runRecon(['audit', 'rechained', '--report'], env);
    expect(report.code).toBe(1);
    expect(report.stdout).toContain('**BROKEN** at position 17');
    const all = await runRecon(['audit', '--all'], env);
    expect(all.code).toBe(1);
    expect(all.stdout).toMatch(/^log BROKEN: /);
  });

  it('fails on a deleted blob, naming it', async () => {
    const checkpoint = createHash('sha256').update('checkpoint blobless').digest('hex');
    rmSync(join(home, 'blobs', checkpoint.slice(0, 2), checkpoint.slice(2)));
    const audit = await runRecon(['audit', 'blobless'], env);
    expect(audit.code).toBe(1);
    expect(audit.stdout).toContain('hash chain intact');
    expect(audit.stdout).toContain(
      `run blobless: blob check FAILED: checkpoint blob ${checkpoint} (named by checkpoint.saved at position 5) is MISSING`,
    );
    const report = await runRecon(['audit', 'blobless', '--report'], env);
    expect(report.code).toBe(1);
    expect(report.stdout).toMatch(/\| checkpoint \| `[0-9a-f]{64}` \| checkpoint.saved @ 5 \| MISSING \|/);
  });

  it('verifies with the public key alone, signs new runs, and exits 2 without a run', async () => {
    expect(
      (await runRecon(['demo', '--run-id', 'later', '--sft-steps', '2', '--grpo-steps', '1'], env)).code,
    ).toBe(0);
    const reviewer = mkdtempSync(join(tmpdir(), 'recon-reviewer-'));
    try {
      copyFileSync(join(home, 'log-signing-key.pub.pem'), join(reviewer, 'key.pub.pem'));
      copyFileSync(join(home, 'log-checkpoints.jsonl'), join(reviewer, 'checkpoints.jsonl'));
      const args = [
        '--checkpoints',
        join(reviewer, 'checkpoints.jsonl'),
        '--public-key',
        join(reviewer, 'key.pub.pem'),
      ];
      const asReviewer = { ...env, RECON_HOME: reviewer, RECON_BLOB_DIR: join(home, 'blobs') };
      const later = await runRecon(['audit', 'later', ...args], asReviewer);
      expect(later.code).toBe(0);
      expect(later.stdout).toMatch(/signed: matches log checkpoint #5 /);
      expect((await runRecon(['audit', 'cut-fixed', ...args], asReviewer)).code).toBe(1);
      expect(existsSync(join(reviewer, 'log-signing-key.pem'))).toBe(false);
    } finally {
      rmSync(reviewer, { recursive: true, force: true });
    }
    const again = await runRecon(['audit', '--checkpoint'], env);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('the log has not grown since log checkpoint #5');
    const usage = await runRecon(['audit'], env);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('audit: name a run, or pass --all or --checkpoint');
  });
});
