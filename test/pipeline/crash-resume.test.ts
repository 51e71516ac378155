import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { auditStream, type RecordedEvent } from '@recon/eventlog';
import { createTestPlatform, type TestPlatform } from '../support/platform';
import { spawnRecon, waitForEvents } from '../support/spawned-recon';
import { tinyRunConfig } from '../support/tiny-run-config';
import { gamesWithoutRunId, payloadFingerprint, REPRODUCIBLE_TYPES } from '../support/run-events';

const BIN = resolve(__dirname, '../../bin/recon');
const CONFIG = tinyRunConfig({
  name: 'crash',
  seed: 11,
  datasets: { curriculum: { testItems: 10 } },
  sft: { steps: 4 },
  grpo: { steps: 5, maxCompletionTokens: 24 },
  // Games sample at temperature > 0: replay --verify re-executes them under another run id (seeds must not follow it).
  evaluation: {
    stages: ['grpo'],
    maxNewTokens: 16,
    heldOut: { items: 10 },
    completeInformation: { trials: 1, temperature: 0.8 },
    gtbench: { matches: 1, opponents: ['random'], temperature: 0.8 },
  },
});
const REPRODUCIBLE = new Set([...REPRODUCIBLE_TYPES, 'policy.ready', 'evaluation.completed']);

describe('kill -9 mid-GRPO, then recon resume', () => {
  let platform: TestPlatform;
  let env: NodeJS.ProcessEnv;
  let config: string;
  beforeAll(async () => {
    platform = await createTestPlatform();
    env = { DATABASE_URL: platform.databaseUrl, RECON_HOME: mkdtempSync(join(tmpdir(), 'recon-crash-')) };
    config = join(env.RECON_HOME!, 'crash.yaml');
    writeFileSync(config, CONFIG);
  });
  afterAll(async () => {
    await platform?.close();
  });

  const fingerprint = (events: RecordedEvent[]) => payloadFingerprint(events, REPRODUCIBLE);

  it('ends with exactly the payloads of an uninterrupted run, recorded once each', async () => {
    const first = spawnRecon(['run', config, '--run-id', 'crashed', '--no-progress', '--json'], env);
    await waitForEvents(platform.eventStore, 'crashed', 'grpo.step.completed', 2, first);
    first.child.kill('SIGKILL');
    await first.exit;
    expect(await platform.eventStore.readStream('crashed', { types: ['run.completed'] })).toEqual([]);

    expect(await spawnRecon(['resume', 'crashed', '--no-progress', '--json'], env).exit).toBe(0);
    expect(await spawnRecon(['run', config, '--run-id', 'whole', '--no-progress', '--json'], env).exit).toBe(
      0,
    );

    const crashed = await platform.eventStore.readStream('crashed');
    const whole = await platform.eventStore.readStream('whole');
    expect(crashed.filter((e) => e.type === 'run.completed')).toHaveLength(1);
    expect(crashed.filter((e) => e.type === 'grpo.step.completed')).toHaveLength(5);
    expect(fingerprint(crashed)).toEqual(fingerprint(whole));
    // The games too, though their match ids name the run: same moves, same outcomes under either id.
    expect(gamesWithoutRunId(crashed, 'crashed')).toHaveLength(20);
    expect(gamesWithoutRunId(crashed, 'crashed')).toEqual(gamesWithoutRunId(whole, 'whole'));
    expect((await auditStream(platform.pool, 'crashed')).ok).toBe(true);

    // And the resumed run passes replay verification: re-executed with this code, every event matches.
    const verify = spawn(process.execPath, [BIN, 'replay', 'crashed', '--verify', '--json'], {
      env: { ...process.env, ...env },
    });
    let out = '';
    verify.stdout.on('data', (chunk) => (out += chunk));
    expect(await new Promise((r) => verify.on('exit', r))).toBe(0);
    const verified = JSON.parse(out) as { replayId: string };
    expect(verified).toMatchObject({ runId: 'crashed', identical: true, firstDivergence: null });
    // The outcome is recorded on the run and its audit report shows it.
    const [recorded] = await platform.eventStore.readStream('crashed', { types: ['run.replay.verified'] });
    expect(recorded.payload).toMatchObject({ replayRunId: verified.replayId, identical: true });
    const audit = spawn(process.execPath, [BIN, 'audit', 'crashed', '--report'], {
      env: { ...process.env, ...env },
    });
    let report = '';
    audit.stdout.on('data', (chunk) => (report += chunk));
    expect(await new Promise((r) => audit.on('exit', r))).toBe(0);
    expect(report).toContain('## Replay verification');
    expect(report).toMatch(new RegExp(`\\| ${verified.replayId} \\| \\d+ \\| identical \\|`));
    expect((await auditStream(platform.pool, 'crashed')).ok).toBe(true);
  }, 300_000);
});
