import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import type { PayloadOf } from '@recon/contracts';
import { auditStream } from '@recon/eventlog';
import { createTestPlatform, type TestPlatform } from '../support/platform';
import { tinyRunConfig } from '../support/tiny-run-config';

const run = promisify(execFile);
const BIN = resolve(__dirname, '../../bin/recon');
/** The example reward as a plug-in module (built by npm run build). */
const PLUGIN = resolve(__dirname, '../../dist/services/reward-concise/src');
const CONFIG = tinyRunConfig({
  name: 'parent',
  seed: 21,
  datasets: { curriculum: { testItems: 10 } },
  grpo: { steps: 3 },
});

describe('recon fork', () => {
  let platform: TestPlatform;
  let env: NodeJS.ProcessEnv;
  beforeAll(async () => {
    platform = await createTestPlatform();
    env = {
      ...process.env,
      DATABASE_URL: platform.databaseUrl,
      RECON_HOME: mkdtempSync(join(tmpdir(), 'recon-fork-')),
    };
    writeFileSync(join(env.RECON_HOME!, 'parent.yaml'), CONFIG);
  });
  afterAll(async () => {
    await platform?.close();
  });
  const recon = (args: string[]) => run(process.execPath, [BIN, ...args], { env });
  /** The CLI refuses the arguments as a usage error (exit code 2), saying why. */
  const expectRefused = (args: string[], reason: string) =>
    expect(recon(args)).rejects.toMatchObject({ code: 2, stderr: expect.stringContaining(reason) });
  const payloads = async <T extends string>(runId: string, type: T) =>
    (await platform.eventStore.readStream(runId, { types: [type] })).map(
      (e) => e.payload as PayloadOf<T & Parameters<typeof platform.eventStore.append>[1][number]['type']>,
    );

  it('continues the parent from its step-N checkpoint with the changed settings, with lineage', async () => {
    await recon([
      'run',
      join(env.RECON_HOME!, 'parent.yaml'),
      '--run-id',
      'parent',
      '--no-progress',
      '--json',
    ]);
    const parentCheckpoints = (await payloads('parent', 'checkpoint.saved')) as Array<
      PayloadOf<'checkpoint.saved'>
    >;
    const { stdout } = await recon([
      'fork',
      'parent',
      '--from-step',
      '1',
      '--set',
      'grpo.learningRate=0.001',
      '--run-id',
      'child',
      '--no-progress',
      '--json',
    ]);
    expect(JSON.parse(stdout)).toMatchObject({ runId: 'child', status: 'completed' });

    const [request] = (await payloads('child', 'run.requested')) as Array<PayloadOf<'run.requested'>>;
    expect(request.parent).toEqual({ runId: 'parent', step: 1, changedKeys: ['grpo.learningRate'] });
    expect((request.config as { grpo: { learningRate: number } }).grpo.learningRate).toBe(0.001);
    const steps = (
      (await payloads('child', 'grpo.step.completed')) as Array<PayloadOf<'grpo.step.completed'>>
    ).map((s) => s.step);
    expect(steps).toEqual([2, 3]);
    const [firstRequest] = (await payloads('child', 'rollouts.requested')) as Array<
      PayloadOf<'rollouts.requested'>
    >;
    expect(firstRequest.step).toBe(2);
    expect(firstRequest.policyVersion).toBe(
      parentCheckpoints.find((c) => c.phase === 'grpo' && c.step === 1)!.checkpointHash,
    );
    // Same checkpoint, seed and prompts, different learning rate: step 2's rollouts equal the parent's, its update does not.
    const rollouts = async (runId: string) =>
      ((await payloads(runId, 'rollout.generated')) as Array<PayloadOf<'rollout.generated'>>)
        .filter((r) => r.step === 2)
        .map((r) => r.completion);
    expect(await rollouts('child')).toEqual(await rollouts('parent'));
    expect((await auditStream(platform.pool, 'child')).ok).toBe(true);

    const runs = JSON.parse((await recon(['runs', '--json'])).stdout) as Array<Record<string, unknown>>;
    expect(JSON.stringify(runs.find((r) => JSON.stringify(r).includes('child')))).toContain('parent');
  }, 240_000);

  it('rescores every recorded rollout with another reward into a derived stream, idempotently', async () => {
    const rescore = async () =>
      JSON.parse(
        (
          await recon([
            'replay',
            'parent',
            '--rescore',
            'concise-correct',
            '--reward-plugin',
            PLUGIN,
            '--json',
          ])
        ).stdout,
      );
    const report = await rescore();
    const rollouts = (await payloads('parent', 'rollout.generated')).length;
    expect(report).toMatchObject({
      sourceRunId: 'parent',
      rewardId: 'concise-correct',
      rewardVersion: '1.0.0',
      originalRewardId: 'recon-hierarchical',
      rollouts,
      failed: 0,
    });
    expect(report.perStep.map((s: { step: number }) => s.step)).toEqual([1, 2, 3]);
    const derived = await platform.eventStore.readStream(report.streamId);
    expect(derived[0]).toMatchObject({
      type: 'rescore.requested',
      payload: { sourceRunId: 'parent', rollouts },
    });
    expect(derived.filter((e) => e.type === 'reward.scored')).toHaveLength(rollouts);
    await rescore();
    expect(await platform.eventStore.readStream(report.streamId)).toHaveLength(derived.length);
    await expectRefused(['replay', 'parent', '--rescore', 'nope'], "no reward service 'nope' has registered");
    await expectRefused(
      ['replay', 'parent', '--rescore', 'concise-correct', '--reward-plugin', 'no/such/module'],
      "reward plugin 'no/such/module': cannot load it",
    );
  }, 60_000);

  it('refuses settings a fork cannot change, naming the key', async () => {
    await expectRefused(
      ['fork', 'parent', '--from-step', '1', '--set', 'sft.steps=9'],
      '--set sft.steps: a fork continues from a checkpoint',
    );
    await expectRefused(
      ['fork', 'parent', '--from-step', '1', '--set', 'grpo.learningRate=-1'],
      'grpo.learningRate',
    );
  }, 60_000);
});
