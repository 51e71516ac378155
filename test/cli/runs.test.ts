import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { NewEvent } from '@recon/eventlog';
import { createTestPlatform, type TestPlatform } from '../support/platform';
import { runRecon } from '../support/recon-cli';
import { syntheticRunEvents, TEST_PRODUCER } from '../support/synthetic-run';

/**
 * `recon runs` on runs in each state it can see live: one only requested, one recording events, one
 * completed. The stalled state needs a last event older than 15 minutes, which the log cannot be given (it
 * stamps each event's occurredAt itself): apps/cli/src/run-listing.spec.ts covers it at a fixed time.
 */
describe('recon runs: activity and last event', () => {
  let platform: TestPlatform;
  let env: Record<string, string>;
  const append = (runId: string, events: NewEvent[]) =>
    platform.eventStore.append(runId, events, { expectedVersion: 'no-stream', producer: TEST_PRODUCER });

  beforeAll(async () => {
    if (!existsSync(resolve(__dirname, '../../dist/apps/cli/src/main.js')))
      throw new Error('the CLI is not built: run `npm run build` (npm test does)');
    platform = await createTestPlatform();
    env = { DATABASE_URL: platform.databaseUrl, RECON_BLOB_DIR: platform.blobDir };
    await append('waiting', syntheticRunEvents('waiting').slice(0, 1));
    const training = syntheticRunEvents('training', { sftSteps: 4, grpoSteps: 1 });
    await append('training', training.slice(0, 4));
    await append('finished', syntheticRunEvents('finished', { sftSteps: 2, grpoSteps: 1 }));
  });
  afterAll(() => platform?.close());

  it('--json keeps the stored status and adds the activity and the time of the last event', async () => {
    const listed = await runRecon(['runs', '--json'], env);
    expect(listed.code).toBe(0);
    const runs = JSON.parse(listed.stdout) as Array<Record<string, unknown>>;
    const lastOf = async (runId: string) => (await platform.eventStore.readStream(runId)).at(-1)!.occurredAt;
    const byRun = new Map(runs.map((r) => [r.run, [r.status, r.activity, r.events, r.lastEventAt]]));
    expect(Object.fromEntries(byRun)).toEqual({
      waiting: ['requested', 'requested', 1, await lastOf('waiting')],
      training: ['requested', 'running', 4, await lastOf('training')],
      finished: ['completed', 'completed', expect.any(Number), await lastOf('finished')],
    });
  });

  it('the table shows the activity as the status and how long ago each run last recorded an event', async () => {
    const listed = await runRecon(['runs'], env);
    expect(listed.code).toBe(0);
    const lines = listed.stdout.split('\n');
    expect(lines.find((l) => l.includes('status'))).toMatch(/│ status +│ events +│ last event +│/);
    const row = (runId: string) => lines.find((l) => l.startsWith(`│ ${runId} `)) ?? '';
    expect(row('waiting')).toMatch(/│ requested +│ 1 +│ \d+[smhd] ago +│/);
    expect(row('training')).toMatch(/│ running +│ 4 +│ \d+[smhd] ago +│/);
    expect(row('finished')).toMatch(/│ completed +│ \d+ +│ \d+[smhd] ago +│/);
  });
});
