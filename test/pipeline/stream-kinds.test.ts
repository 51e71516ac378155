import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { PayloadOf } from '@recon/contracts';
import { createTestPlatform, type TestPlatform } from '../support/platform';
import { RECON_BIN, runRecon } from '../support/recon-cli';
import { TEST_PRODUCER } from '../support/synthetic-run';

const DATA = resolve(__dirname, '../../../shared/recon-data');
const CONFIG = `
name: kinds
seed: 5
datasets:
  curriculum: { trainItems: 40, testItems: 6 }
policy: { kind: builtin, dModel: 16, nLayers: 1, nHeads: 2, contextLength: 128, backend: wasm }
tokenizer: { vocabSize: 300 }
sft: { steps: 2, batchSize: 4, learningRate: 0.003 }
grpo: { steps: 2, promptsPerStep: 2, numGenerations: 2, learningRate: 0.0002, beta: 0.04, maxCompletionTokens: 8, maxGradNorm: 1.0 }
evaluation: { stages: [grpo], maxNewTokens: 4, heldOut: { items: 3 } }
`;

/**
 * Every kind of stream a home can hold, recorded before training runs: the pipeline's consumers act on the
 * runs they own and skip every other stream by its kind (named by its first event), so a demo, an external
 * evaluation, a distillation job, a rescore, tokens or a run recorded by other code never stop a later
 * `recon run`, `resume` or `fork`.
 */
describe('a home holding every kind of stream', () => {
  let platform: TestPlatform;
  let home: string;
  let env: Record<string, string>;
  let config: string;
  let server: ChildProcess | null = null;
  const recon = (args: string[]) => runRecon(args, env, 240_000);
  /** `recon <args> --json` that must succeed: its parsed output. */
  const reconJson = async (args: string[]) => {
    const result = await recon([...args, '--json']);
    if (result.code !== 0)
      throw new Error(`recon ${args.join(' ')} exited ${result.code}: ${result.stderr}${result.stdout}`);
    return JSON.parse(result.stdout) as Record<string, unknown>;
  };
  const streamVersions = async (): Promise<Record<string, number>> => {
    const rows = await platform.pool.query<{ stream_id: string; version: string }>(
      'SELECT stream_id, max(position) AS version FROM recon_events GROUP BY stream_id',
    );
    return Object.fromEntries(rows.rows.map((r) => [r.stream_id, Number(r.version)]));
  };

  beforeAll(async () => {
    if (!existsSync(resolve(__dirname, '../../dist/apps/cli/src/main.js')))
      throw new Error('the CLI is not built: run `npm run build` (npm test does)');
    platform = await createTestPlatform();
    home = mkdtempSync(join(tmpdir(), 'recon-kinds-'));
    env = { DATABASE_URL: platform.databaseUrl, RECON_HOME: home };
    config = join(home, 'kinds.yaml');
    writeFileSync(config, CONFIG);
  });
  afterAll(async () => {
    if (server && server.exitCode === null) {
      const exited = new Promise((done) => server!.once('exit', done));
      server.kill('SIGTERM');
      await exited;
    }
    await platform?.close();
    rmSync(home, { recursive: true, force: true });
  });

  it('records every kind, then runs, resumes and forks training runs that all complete', async () => {
    // A training run first: its checkpoint is served, its rollouts rescored, and it is forked at the end.
    expect(await reconJson(['run', config, '--run-id', 'parent', '--no-progress'])).toMatchObject({
      status: 'completed',
    });

    // Access: a token on the access stream.
    await reconJson(['token', 'create', '--name', 'kinds', '--role', 'viewer']);
    // Rescore: the parent's rollouts scored again into a derived stream.
    expect(await reconJson(['replay', 'parent', '--rescore', 'recon-hierarchical'])).toMatchObject({
      streamId: expect.stringContaining('parent.rescore-'),
    });

    // External evaluation: the parent's checkpoint served by `recon serve`, evaluated by `recon eval`.
    server = spawn(
      process.execPath,
      [RECON_BIN, 'serve', 'parent:grpo', '--port', '0', '--model-name', 'tiny'],
      {
        env: { ...process.env, ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const baseUrl = await new Promise<string>((done, fail) => {
      let out = '';
      server!.stdout!.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        const match = /listening on (\S+)/.exec(out);
        if (match) done(match[1]);
      });
      server!.stderr!.on('data', (chunk: Buffer) => (out += chunk.toString()));
      server!.once('exit', (code) => fail(new Error(`recon serve exited ${code}: ${out}`)));
    });
    const evaluation = await reconJson([
      'eval',
      '--policy',
      `openai:${baseUrl}`,
      '--model',
      'tiny',
      '--suite',
      'recon-eval',
      '--data',
      DATA,
      '--limit',
      '2',
      '--max-tokens',
      '4',
      '--eval-id',
      'external',
    ]);
    expect(evaluation).toMatchObject({ evalId: 'external' });
    const [requested] = await platform.eventStore.readStream('external', {
      types: ['external.evaluation.requested'],
    });
    const evalSet = (requested.payload as PayloadOf<'external.evaluation.requested'>).datasets[0];

    // Distillation: the served model as a teacher on two Recon-Eval prompts. A tiny model's traces are
    // rejected, which is not what is tested here: only that the job's stream is recorded.
    await recon([
      'dataset',
      'distill',
      evalSet.versionHash,
      '--base-url',
      baseUrl,
      '--model',
      'tiny',
      '--limit',
      '2',
      '--max-tokens',
      '4',
      '--job',
      'kinds',
      '--json',
    ]);
    const teacherRequests = await platform.pool.query(
      "SELECT 1 FROM recon_events WHERE type = 'teacher.request.sent'",
    );
    expect(teacherRequests.rowCount).toBeGreaterThan(0);
    const stopped = new Promise((done) => server!.once('exit', done));
    server.kill('SIGTERM');
    await stopped;

    // Demo: a synthetic run recorded whole (its config is not an experiment config).
    expect(
      await reconJson(['demo', '--run-id', 'demo', '--sft-steps', '2', '--grpo-steps', '1']),
    ).toMatchObject({
      runId: 'demo',
    });
    // Its rollouts have no recorded prompts to score: a rescore of it fails at once, saying why.
    const rescoreDemo = await recon([
      'replay',
      'demo',
      '--rescore',
      'recon-hierarchical',
      '--timeout',
      '120',
    ]);
    expect(rescoreDemo.code).toBe(1);
    expect(rescoreDemo.stderr).toContain('could not rescore demo');
    expect(rescoreDemo.stderr).toContain("no rollouts.requested names prompt 'p1'");
    // A run requested by other code whose config this code does not accept: it is failed, naming why.
    await platform.eventStore.append(
      'foreign',
      [
        {
          type: 'run.requested',
          payload: {
            name: 'foreign',
            config: { model: 'from another version' },
            configHash: 'a'.repeat(64),
            seed: 1,
            requestedBy: 'test',
            codeVersion: 'other',
          },
        },
      ],
      { expectedVersion: 'no-stream', producer: TEST_PRODUCER },
    );
    const before = await streamVersions();

    // A new run, a run resumed after its process died right after requesting it, and a fork: all complete.
    expect(await reconJson(['run', config, '--run-id', 'after', '--no-progress'])).toMatchObject({
      status: 'completed',
    });
    const submitted = spawn(process.execPath, [RECON_BIN, 'run', config, '--run-id', 'pending', '--submit'], {
      env: { ...process.env, ...env },
      stdio: 'ignore',
    });
    const killed = new Promise((done) => submitted.once('exit', done));
    while ((await platform.eventStore.streamVersion('pending')) === 0) {
      if (submitted.exitCode !== null) throw new Error(`recon run --submit exited ${submitted.exitCode}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    submitted.kill('SIGKILL');
    await killed;
    expect(await reconJson(['resume', 'pending', '--no-progress'])).toMatchObject({ status: 'completed' });
    expect(
      await reconJson(['fork', 'parent', '--from-step', '1', '--run-id', 'child', '--no-progress']),
    ).toMatchObject({ status: 'completed' });

    // No consumer touched a stream it does not own; the foreign run was failed with the reason.
    const after = await streamVersions();
    for (const [stream, version] of Object.entries(before))
      if (stream !== 'foreign' && stream !== 'reward-services')
        expect([stream, after[stream]]).toEqual([stream, version]);
    const [failed] = await platform.eventStore.readStream('foreign', { types: ['run.failed'] });
    expect(failed.payload).toMatchObject({ error: expect.stringMatching(/config/) });
  }, 900_000);
});
