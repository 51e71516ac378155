import { cpSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type { PayloadOf } from '@recon/contracts';
import { auditStream, type RecordedEvent } from '@recon/eventlog';
import { decodeCheckpoint, selectBackend } from '@recon/policy';
import { loadPeftAdapter, loadPretrained, type Projection } from '@recon/pretrained';
import { createTestPlatform, type TestPlatform } from '../support/platform';
import { runRecon } from '../support/recon-cli';
import { spawnRecon, waitForEvents } from '../support/spawned-recon';
import { payloadFingerprint, REPRODUCIBLE_TYPES } from '../support/run-events';

const FIXTURE = resolve(__dirname, '../../libs/pretrained/fixtures/tiny-llama');
const LORA = { rank: 4, alpha: 8, targets: ['q_proj', 'v_proj', 'down_proj'] as Projection[] };
const REPRODUCIBLE = new Set([...REPRODUCIBLE_TYPES, 'policy.ready', 'evaluation.completed']);

/**
 * GRPO on a pretrained checkpoint (the committed tiny Llama fixture, copied to a temp directory) through the
 * CLI: LoRA SFT then GRPO steps whose rollouts are sampled from each step's adapters and scored by the
 * reward service; adapter-only checkpoints with their optimiser state; a kill -9 mid-GRPO resumed to
 * exactly the events of an uninterrupted run; replay verification; a fork from a GRPO step; PEFT export of
 * the GRPO stage.
 */
describe('GRPO on a pretrained checkpoint with LoRA', () => {
  let platform: TestPlatform;
  let home: string;
  let env: Record<string, string>;
  let configFile: string;
  const recon = (args: string[]) => runRecon(args, env, 240_000);

  beforeAll(async () => {
    if (!existsSync(resolve(__dirname, '../../dist/apps/cli/src/main.js')))
      throw new Error('the CLI is not built: run `npm run build` (npm test does)');
    await selectBackend('wasm');
    platform = await createTestPlatform();
    home = mkdtempSync(join(tmpdir(), 'recon-pretrained-grpo-'));
    const checkpoint = join(home, 'tiny-llama');
    cpSync(FIXTURE, checkpoint, { recursive: true });
    env = { DATABASE_URL: platform.databaseUrl, RECON_HOME: home, RECON_BLOB_DIR: platform.blobDir };
    configFile = join(home, 'grpo.yaml');
    writeFileSync(
      configFile,
      `name: pretrained-grpo
seed: 5
datasets: { curriculum: { trainItems: 24, testItems: 4 } }
policy: { kind: pretrained, path: ${checkpoint}, backend: wasm, context: 512, lora: ${JSON.stringify(LORA)} }
sft: { steps: 2, batchSize: 2, learningRate: 0.01 }
grpo: { steps: 8, promptsPerStep: 2, numGenerations: 3, gradientAccumulation: 1, maxCompletionTokens: 12, learningRate: 0.01, beta: 0.04, temperature: 1.0 }
evaluation: { stages: [untrained, sft, grpo], maxNewTokens: 6, heldOut: { items: 2 } }
`,
    );
  });
  afterAll(async () => {
    await platform?.close();
    rmSync(home, { recursive: true, force: true });
  });

  const of = <T extends 'checkpoint.saved' | 'rollout.generated' | 'grpo.step.completed' | 'policy.ready'>(
    events: RecordedEvent[],
    type: T,
  ) => events.filter((e) => e.type === type).map((e) => e.payload as PayloadOf<T>);

  it('trains GRPO steps on the adapters, resumes after kill -9 to the same events, verifies on replay', async () => {
    expect((await recon(['run', configFile, '--run-id', 'whole', '--no-progress', '--json'])).code).toBe(0);
    const whole = await platform.eventStore.readStream('whole');
    const steps = of(whole, 'grpo.step.completed');
    expect(steps.map((s) => s.step)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(of(whole, 'rollout.generated')).toHaveLength(8 * 2 * 3);
    expect(whole.filter((e) => e.type === 'reward.scored').length).toBeGreaterThanOrEqual(8 * 2 * 3);
    // Each step's rollouts come from the adapters of the step before (the first from the SFT stage's).
    const versions = [...new Set(of(whole, 'rollout.generated').map((r) => r.policyVersion))];
    expect(versions).toHaveLength(8);
    const grpoCheckpoints = of(whole, 'checkpoint.saved').filter((c) => c.phase === 'grpo');
    expect(grpoCheckpoints.map((c) => c.step)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    const last = grpoCheckpoints[7];
    const stored = decodeCheckpoint(await platform.blobStore.get(last.checkpointHash), last.checkpointHash);
    // Adapters only (2 layers x 3 targets x A, B), with AdamW's moments after 8 steps.
    expect([...stored.weights.keys()]).toHaveLength(12);
    expect([...stored.weights.keys()].every((name) => /\.lora_[AB]$/.test(name))).toBe(true);
    expect(stored.trainer.optimizer.step).toBe(8);
    expect(Object.keys(stored.trainer.optimizer.moments)).toHaveLength(12);
    expect(of(whole, 'policy.ready').map((p) => p.stage)).toEqual(['untrained', 'sft', 'grpo']);
    expect(
      whole
        .filter((e) => e.type === 'evaluation.completed')
        .map((e) => (e.payload as { stage: string }).stage),
    ).toEqual(['untrained', 'sft', 'grpo']);

    // Killed after its second GRPO step, then resumed.
    const first = spawnRecon(['run', configFile, '--run-id', 'crashed', '--no-progress'], env);
    await waitForEvents(platform.eventStore, 'crashed', 'grpo.step.completed', 2, first);
    first.child.kill('SIGKILL');
    await first.exit;
    expect(await platform.eventStore.readStream('crashed', { types: ['run.completed'] })).toEqual([]);
    expect((await recon(['resume', 'crashed', '--no-progress', '--json'])).code).toBe(0);
    const crashed = await platform.eventStore.readStream('crashed');
    expect(crashed.filter((e) => e.type === 'run.completed')).toHaveLength(1);
    expect(payloadFingerprint(crashed, REPRODUCIBLE)).toEqual(payloadFingerprint(whole, REPRODUCIBLE));
    expect((await auditStream(platform.pool, 'crashed')).ok).toBe(true);

    const replay = await recon(['replay', 'crashed', '--verify']);
    expect(replay.stdout).toMatch(/^identical: \d+ events of crashed reproduced/);
    expect(replay.code).toBe(0);
  }, 600_000);

  it('forks from a GRPO step and exports the GRPO stage for PEFT', async () => {
    const fork = await recon([
      'fork',
      'whole',
      '--from-step',
      '2',
      '--set',
      'grpo.learningRate=0.02',
      '--run-id',
      'forked',
      '--no-progress',
      '--json',
    ]);
    expect(JSON.parse(fork.stdout)).toMatchObject({ runId: 'forked', status: 'completed' });
    const forked = await platform.eventStore.readStream('forked');
    expect(forked.some((e) => e.type === 'policy.source.resolved')).toBe(true);
    expect(of(forked, 'grpo.step.completed').map((s) => s.step)).toEqual([3, 4, 5, 6, 7, 8]);
    // The parent's step-2 adapters, seed and prompts, another learning rate: step 3's rollouts are the
    // parent's, its update is not.
    const whole = await platform.eventStore.readStream('whole');
    const rolloutsOf = (events: RecordedEvent[], step: number) =>
      of(events, 'rollout.generated')
        .filter((r) => r.step === step)
        .map((r) => [r.rolloutId, r.completion, r.policyVersion]);
    expect(rolloutsOf(forked, 3)).toEqual(rolloutsOf(whole, 3));
    const stepCheckpoint = (events: RecordedEvent[], step: number) =>
      of(events, 'checkpoint.saved').find((c) => c.phase === 'grpo' && c.step === step)!.checkpointHash;
    expect(stepCheckpoint(forked, 3)).not.toBe(stepCheckpoint(whole, 3));
    expect((await auditStream(platform.pool, 'forked')).ok).toBe(true);

    const peft = join(home, 'peft-grpo');
    expect((await recon(['export', 'whole', '--stage', 'grpo', '--peft', peft])).code).toBe(0);
    const sftPeft = join(home, 'peft-sft');
    expect((await recon(['export', 'whole', '--stage', 'sft', '--peft', sftPeft])).code).toBe(0);
    const checkpoint = join(home, 'tiny-llama');
    const logitsWith = (dir: string) => {
      const { model } = loadPretrained(checkpoint, { lora: LORA });
      loadPeftAdapter(model, dir);
      const ids = tf.tensor2d([[3, 40, 77, 12]], undefined, 'int32');
      const logits = model.logits(ids).dataSync().slice();
      tf.dispose(ids);
      model.dispose();
      return logits;
    };
    const grpo = logitsWith(peft);
    const sft = logitsWith(sftPeft);
    // GRPO moved the adapters away from where SFT left them.
    expect(grpo.some((v, i) => Math.abs(v - sft[i]) > 1e-6)).toBe(true);
  }, 300_000);
});
