import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { REWARD_REGISTRY_STREAM, type PayloadOf } from '@recon/contracts';
import { createTestPlatform, type TestPlatform } from '../support/platform';
import { freePort, waitForHealthy } from '../support/prometheus';

const run = promisify(execFile);
const BIN = resolve(__dirname, '../../bin/recon');
const CONCISE_MAIN = resolve(__dirname, '../../dist/services/reward-concise/src/main.js');

const config = (name: string, rewards: string, grpoExtra = '') => `
name: ${name}
seed: 5
datasets:
  curriculum: { trainItems: 60, testItems: 10 }
policy: { kind: builtin, dModel: 32, nLayers: 1, nHeads: 2, contextLength: 256, backend: wasm }
tokenizer: { vocabSize: 380 }
sft: { steps: 2, batchSize: 8, learningRate: 0.003 }
grpo: { steps: 2, promptsPerStep: 2, numGenerations: 4, learningRate: 0.0002, maxCompletionTokens: 16, maxGradNorm: 1.0${grpoExtra} }
rewards: ${rewards}
evaluation: { stages: [grpo], maxNewTokens: 8, heldOut: { items: 4 } }
`;

describe('reward services as plug-ins: a separate deployable, registration and the wait for it', () => {
  let platform: TestPlatform;
  let env: NodeJS.ProcessEnv;
  let home: string;
  beforeAll(async () => {
    platform = await createTestPlatform();
    home = mkdtempSync(join(tmpdir(), 'recon-rewards-'));
    env = { ...process.env, DATABASE_URL: platform.databaseUrl, RECON_HOME: home };
  });
  afterAll(async () => {
    await platform?.close();
  });
  const recon = (args: string[]) => run(process.execPath, [BIN, ...args], { env });
  const write = (file: string, text: string) => {
    writeFileSync(join(home, file), text);
    return join(home, file);
  };

  it('trains GRPO on two rewards, one served by its own 20-line deployable', async () => {
    const port = await freePort();
    const service: ChildProcess = spawn(process.execPath, [CONCISE_MAIN], {
      env: { ...env, PORT: String(port), HOST: '127.0.0.1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    service.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    try {
      const live = await waitForHealthy('the concise-correct deployable', port, 20_000).then(
        () => true,
        () => false,
      );
      expect([live, stderr]).toEqual([true, '']);

      const file = write(
        'both.yaml',
        config('both', '[{ id: recon-hierarchical, weight: 1 }, { id: concise-correct, weight: 0.5 }]'),
      );
      const { stdout } = await recon(['run', file, '--run-id', 'both', '--no-progress', '--json']);
      expect(JSON.parse(stdout)).toMatchObject({ runId: 'both', status: 'completed' });

      const rollouts = await platform.eventStore.readStream('both', { types: ['rollout.generated'] });
      const scores = await platform.eventStore.readStream('both', { types: ['reward.scored'] });
      expect(rollouts).toHaveLength(2 * 2 * 4);
      const byReward = (id: string) =>
        scores.filter((e) => (e.payload as PayloadOf<'reward.scored'>).rewardId === id);
      expect(byReward('recon-hierarchical')).toHaveLength(rollouts.length);
      expect(byReward('concise-correct')).toHaveLength(rollouts.length);
      // The concise scores came from the deployable's process, not from the run's.
      expect(new Set(byReward('concise-correct').map((e) => e.producer.instance))).toEqual(
        new Set([`${hostname()}:${service.pid}`]),
      );
      expect(
        Object.keys((byReward('concise-correct')[0].payload as PayloadOf<'reward.scored'>).components).sort(),
      ).toEqual(['correct', 'length']);
      const steps = await platform.eventStore.readStream('both', { types: ['grpo.step.completed'] });
      expect(steps).toHaveLength(2);
      const metrics = (steps[0].payload as PayloadOf<'grpo.step.completed'>).metrics;
      expect(Object.keys(metrics)).toEqual(
        expect.arrayContaining(['reward.recon-hierarchical.mean', 'reward.concise-correct.mean']),
      );
      const registered = (await platform.eventStore.readStream(REWARD_REGISTRY_STREAM)).map(
        (e) => e.payload as PayloadOf<'reward.service.registered'>,
      );
      expect(registered).toEqual(
        expect.arrayContaining([
          expect.objectContaining({
            rewardId: 'concise-correct',
            rewardVersion: '1.0.0',
            instance: `${hostname()}:${service.pid}`,
          }),
        ]),
      );
    } finally {
      service.kill('SIGTERM');
      const code = await new Promise<number | null>((r) => service.once('exit', (c) => r(c)));
      expect(code).toBe(0);
    }
  }, 240_000);

  it('fails a run whose reward service never registers, naming it, before any training', async () => {
    const file = write(
      'missing.yaml',
      config(
        'missing',
        '[{ id: recon-hierarchical }, { id: concise-correct, version: 9.9.9 }]',
        ', rewardWaitSeconds: 2',
      ),
    );
    const failure = await recon(['run', file, '--run-id', 'missing', '--no-progress', '--json']).then(
      () => null,
      (error: { code: number; stdout: string; stderr: string }) => error,
    );
    expect(failure?.code).toBe(1);
    const [failed] = await platform.eventStore.readStream('missing', { types: ['run.failed'] });
    const message = (failed.payload as PayloadOf<'run.failed'>).error;
    expect(message).toContain('no reward service registered for concise-correct@9.9.9 within 2 s');
    expect(message).toContain('registered: ');
    expect(message).toContain('concise-correct@1.0.0');
    expect(await platform.eventStore.readStream('missing', { types: ['sft.step.completed'] })).toEqual([]);
  }, 120_000);

  it('runs a reward plug-in inside an embedded run with --reward-plugin', async () => {
    const file = write('plugin.yaml', config('plugin', '[{ id: concise-correct }]'));
    const { stdout } = await recon([
      'run',
      file,
      '--run-id',
      'plugin',
      '--reward-plugin',
      resolve(__dirname, '../../dist/services/reward-concise/src'),
      '--no-progress',
      '--json',
    ]);
    expect(JSON.parse(stdout)).toMatchObject({ runId: 'plugin', status: 'completed' });
    const scores = await platform.eventStore.readStream('plugin', { types: ['reward.scored'] });
    expect(new Set(scores.map((e) => (e.payload as PayloadOf<'reward.scored'>).rewardId))).toEqual(
      new Set(['concise-correct']),
    );
  }, 240_000);
});
