import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { ConsistencyProof, InclusionProof } from '@recon/eventlog';
import { scratchServerUrl } from '@recon/persistence';
import { tamper } from '../support/attacker';
import { createTestPlatform, type TestPlatform } from '../support/platform';
import { runRecon } from '../support/recon-cli';

jest.setTimeout(180_000);

/**
 * RFC 9162 proofs from the command line: `recon audit proof` writes an inclusion proof of a run's events (or
 * a consistency proof of two checkpoints) against a signed Merkle root, and `recon audit verify-proof`
 * checks it with the public key alone, with no database and no home; any change to the proof fails it.
 */
describe('recon audit proof and verify-proof', () => {
  let platform: TestPlatform;
  let home: string;
  let work: string;
  let env: Record<string, string | undefined>;
  let databaseUrl: string;
  /** A reviewer: the public key only, no database (an unreachable URL), an empty home. */
  let reviewer: Record<string, string | undefined>;
  let publicKey: string;

  beforeAll(async () => {
    if (!existsSync(resolve(__dirname, '../../dist/apps/cli/src/main.js')))
      throw new Error('the CLI is not built: run `npm run build` (npm test does)');
    home = mkdtempSync(join(tmpdir(), 'recon-proof-home-'));
    work = mkdtempSync(join(tmpdir(), 'recon-proof-work-'));
    platform = await createTestPlatform({ home });
    const url = new URL(scratchServerUrl());
    url.pathname = `/${platform.databaseName}`;
    databaseUrl = url.toString();
    env = { DATABASE_URL: databaseUrl, RECON_HOME: home, RECON_BLOB_DIR: platform.blobDir };
    for (const run of ['proved-a', 'proved-b']) {
      const demo = await runRecon(['demo', '--run-id', run, '--sft-steps', '3', '--grpo-steps', '2'], env);
      expect(demo.stderr).toBe('');
      expect(demo.code).toBe(0);
    }
    publicKey = join(work, 'reviewer.pub.pem');
    writeFileSync(publicKey, readFileSync(join(home, 'log-signing-key.pub.pem')));
    reviewer = {
      DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none',
      RECON_HOME: mkdtempSync(join(tmpdir(), 'recon-proof-reviewer-')),
      RECON_BLOB_DIR: undefined,
    };
  });

  afterAll(async () => {
    await platform?.close();
    for (const dir of [home, work, reviewer?.RECON_HOME])
      if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const verify = (file: string) =>
    runRecon(['audit', 'verify-proof', file, '--public-key', publicKey], reviewer);
  const rewrite = <T>(from: string, to: string, change: (proof: T) => void): string => {
    const proof = JSON.parse(readFileSync(from, 'utf8')) as T;
    change(proof);
    writeFileSync(to, JSON.stringify(proof));
    return to;
  };

  it("proves a run's events in the latest signed tree; the reviewer checks it without the database", async () => {
    const file = join(work, 'a.json');
    const written = await runRecon(['audit', 'proof', 'proved-a', '--out', file], env);
    expect(written.stderr).toBe('');
    expect(written.code).toBe(0);
    const proof = JSON.parse(readFileSync(file, 'utf8')) as InclusionProof;
    expect(proof.format).toBe('recon.inclusion-proof/1');
    expect(proof.checkpoint).toMatchObject({
      format: 'recon.log-checkpoint/2',
      sequence: 2,
      log: { position: 34 },
    });
    expect(proof.events.map((e) => e.envelope.position)).toEqual(Array.from({ length: 17 }, (_, i) => i + 1));

    const checked = await verify(file);
    expect(checked.stderr).toBe('');
    expect(checked.code).toBe(0);
    expect(checked.stdout).toMatch(/^proof verified \(inclusion, key [0-9a-f]{16}\):/);
    expect(checked.stdout.trim().split('\n')).toHaveLength(18);

    const one = await runRecon(['audit', 'proof', 'proved-a', '--event', '5', '--against', '1'], env);
    expect(one.code).toBe(0);
    const single = JSON.parse(one.stdout) as InclusionProof;
    expect(single.checkpoint.sequence).toBe(1);
    expect(single.events).toHaveLength(1);
    expect(single.events[0].envelope.position).toBe(5);
  });

  it('fails a proof whose payload, envelope, audit path or signed root was changed', async () => {
    const file = join(work, 'a.json');
    const cases: Array<[string, (proof: InclusionProof) => void, RegExp, number]> = [
      [
        'payload',
        (p) => (p.events[2].payload = p.events[2].payload!.replace(/[0-9]/, '9')),
        /position 3, .*: its payload does not hash to its payloadHash/,
        1,
      ],
      [
        'envelope',
        (p) => (p.events[4].envelope.occurredAt = '2020-01-01T00:00:00.000Z'),
        /position 5, .*: its envelope hashes to [0-9a-f]{64}, not to/,
        1,
      ],
      [
        'audit path',
        (p) =>
          (p.events[6].auditPath[0] = `${p.events[6].auditPath[0][0] === '0' ? '1' : '0'}${p.events[6].auditPath[0].slice(1)}`),
        /position 7, .*: its audit path does not lead to the Merkle root [0-9a-f]{64} of log checkpoint #2 \(size 34\)/,
        1,
      ],
      [
        'root',
        (p) => (p.checkpoint.log.merkle!.root = '0'.repeat(64)),
        /checkpoint: the signature of checkpoint #2 does not verify/,
        1,
      ],
    ];
    for (const [name, change, message, code] of cases) {
      const result = await verify(
        rewrite<InclusionProof>(file, join(work, `tampered-${name.replace(' ', '-')}.json`), change),
      );
      expect({ name, code: result.code }).toEqual({ name, code });
      expect(`${result.stdout}${result.stderr}`).toMatch(message);
    }
    const notJson = join(work, 'not.json');
    writeFileSync(notJson, '{');
    const bad = await verify(notJson);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain(`${notJson}: not JSON`);
    expect(bad.stderr).not.toMatch(/\n\s+at /);
  });

  it('proves a later checkpoint extends an earlier one, and fails a changed proof', async () => {
    const file = join(work, 'c.json');
    const written = await runRecon(['audit', 'proof', '--consistency', '1..2', '--out', file], env);
    expect(written.code).toBe(0);
    const proof = JSON.parse(readFileSync(file, 'utf8')) as ConsistencyProof;
    expect(proof).toMatchObject({
      format: 'recon.consistency-proof/1',
      from: { sequence: 1 },
      to: { sequence: 2 },
    });
    const checked = await verify(file);
    expect(checked.code).toBe(0);
    expect(checked.stdout).toMatch(/log checkpoint #2 of .* \(size 34\) extends #1 of .* \(size 17\)/);
    const changed = await verify(
      rewrite<ConsistencyProof>(file, join(work, 'c-tampered.json'), (p) => p.proof.reverse()),
    );
    expect(changed.code).toBe(1);
    expect(changed.stdout).toContain(
      'proof FAILED (consistency): the log signed by checkpoint #2 (size 34) is not proven to extend',
    );
    const usage = await runRecon(['audit', 'proof', '--consistency', '2..1'], env);
    expect(usage.code).toBe(2);
  });

  it('refuses to prove anything from a log changed since the checkpoint', async () => {
    await tamper(
      databaseUrl,
      `UPDATE recon_events SET hash = md5(hash) || md5(hash) WHERE stream_id = 'proved-b' AND position = 2`,
    );
    const refused = await runRecon(['audit', 'proof', 'proved-a'], env);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('the log no longer matches log checkpoint #2 (global position 34)');
  });
});
