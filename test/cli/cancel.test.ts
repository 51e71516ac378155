import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PayloadOf } from '@recon/contracts';
import { auditStream } from '@recon/eventlog';
import { createTestPlatform, type TestPlatform } from '../support/platform';
import { runRecon } from '../support/recon-cli';
import { spawnRecon, waitForEvents } from '../support/spawned-recon';
import { tinyRunConfig } from '../support/tiny-run-config';

/**
 * `recon cancel`: a run still training is ended by run.failed (phase cancelled, who and why), the process
 * following it reports it failed and exits, and the run can be neither cancelled again nor resumed.
 */
describe('recon cancel', () => {
  let platform: TestPlatform;
  let home: string;
  let env: Record<string, string>;
  const recon = (args: string[]) => runRecon(args, env);

  beforeAll(async () => {
    platform = await createTestPlatform();
    home = mkdtempSync(join(tmpdir(), 'recon-cancel-'));
    env = { DATABASE_URL: platform.databaseUrl, RECON_HOME: home, RECON_BLOB_DIR: platform.blobDir };
    // Far more GRPO steps than the test waits for: only a cancel ends it in time.
    writeFileSync(join(home, 'long.yaml'), tinyRunConfig({ name: 'long', grpo: { steps: 500 } }));
  });
  afterAll(async () => {
    await platform?.close();
    rmSync(home, { recursive: true, force: true });
  });

  it('ends a run in GRPO with run.failed (cancelled); its process reports it and exits', async () => {
    const running = spawnRecon(
      ['run', join(home, 'long.yaml'), '--run-id', 'long', '--no-progress', '--json'],
      env,
    );
    await waitForEvents(platform.eventStore, 'long', 'grpo.step.completed', 1, running);

    const cancelled = await recon(['cancel', 'long', '--reason', 'wrong learning rate', '--json']);
    expect(cancelled.code).toBe(0);
    expect(JSON.parse(cancelled.stdout)).toMatchObject({ runId: 'long', reason: 'wrong learning rate' });

    expect(await running.exit).toBe(1);
    expect(JSON.parse(running.stdout())).toMatchObject({
      runId: 'long',
      status: 'failed',
      phase: 'cancelled',
    });
    const [failed] = await platform.eventStore.readStream('long', { types: ['run.failed'] });
    expect(failed.payload as PayloadOf<'run.failed'>).toEqual({
      phase: 'cancelled',
      error: expect.stringMatching(/^cancelled by cli:.+: wrong learning rate$/),
    });
    expect((await platform.eventStore.readStream('long', { types: ['run.completed'] })).length).toBe(0);
    expect((await auditStream(platform.pool, 'long')).ok).toBe(true);

    const again = await recon(['cancel', 'long', '--reason', 'twice']);
    expect(again.stderr).toMatch(/^recon: run long has already failed \(event \d+\): nothing to cancel\n$/);
    expect(again.code).toBe(1);
    const resume = await recon(['resume', 'long', '--no-progress']);
    expect(resume.stderr).toMatch(/run long has already failed/);
    expect(resume.code).not.toBe(0);
  }, 240_000);

  it('names a run that does not exist and refuses an empty reason, recording nothing', async () => {
    const missing = await recon(['cancel', 'nope', '--reason', 'x']);
    expect(missing.stderr).toBe('recon: no run nope\n');
    expect(missing.code).toBe(1);
    const empty = await recon(['cancel', 'long', '--reason', '  ']);
    expect(empty.stderr).toMatch(/--reason: give a reason/);
    expect(empty.code).toBe(2);
    expect(await platform.eventStore.streamVersion('nope')).toBe(0);
  });
});
