import { appendFileSync, cpSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type { PayloadOf } from '@recon/contracts';
import type { NewEvent } from '@recon/eventlog';
import { decodeCheckpoint, selectBackend } from '@recon/policy';
import { checkpointContent, loadPeftAdapter, loadPretrained } from '@recon/pretrained';
import { createTestPlatform, type TestPlatform } from '../support/platform';
import { runRecon } from '../support/recon-cli';
import { TEST_PRODUCER } from '../support/synthetic-run';

const FIXTURE = resolve(__dirname, '../../libs/pretrained/fixtures/tiny-qwen2');
const LORA = { rank: 4, alpha: 8, targets: ['q_proj', 'v_proj'] };

/**
 * `recon run` on a pretrained checkpoint (the committed tiny Qwen2 fixture, copied to a temp directory):
 * its content hash recorded as `policy.source.resolved`, LoRA SFT steps with adapter-only checkpoints,
 * held-out evaluation of both stages, a report, PEFT export, replay verification on the same files, and
 * resume / replay / export refused once a file of the directory changed.
 */
describe('a run of a pretrained checkpoint with LoRA, through the CLI', () => {
  let platform: TestPlatform;
  let home: string;
  let checkpoint: string;
  let env: Record<string, string>;
  const recon = (args: string[]) => runRecon(args, env, 240_000);

  beforeAll(async () => {
    if (!existsSync(resolve(__dirname, '../../dist/apps/cli/src/main.js')))
      throw new Error('the CLI is not built: run `npm run build` (npm test does)');
    await selectBackend('wasm');
    platform = await createTestPlatform();
    home = mkdtempSync(join(tmpdir(), 'recon-pretrained-'));
    checkpoint = join(home, 'tiny-qwen2');
    cpSync(FIXTURE, checkpoint, { recursive: true });
    env = { DATABASE_URL: platform.databaseUrl, RECON_HOME: home, RECON_BLOB_DIR: platform.blobDir };
    writeFileSync(
      join(home, 'pretrained.yaml'),
      `name: pretrained
seed: 7
datasets: { curriculum: { trainItems: 20, testItems: 4 } }
policy: { kind: pretrained, path: ${checkpoint}, backend: wasm, lora: ${JSON.stringify(LORA)} }
sft: { steps: 3, batchSize: 2, learningRate: 0.01 }
evaluation: { stages: [untrained, sft], maxNewTokens: 8, heldOut: { items: 3 } }
`,
    );
  });
  afterAll(async () => {
    await platform?.close();
    rmSync(home, { recursive: true, force: true });
  });

  it('records the checkpoint, trains LoRA SFT, evaluates both stages, exports PEFT, verifies on replay', async () => {
    const run = await recon([
      'run',
      join(home, 'pretrained.yaml'),
      '--run-id',
      'pt',
      '--no-progress',
      '--json',
    ]);
    expect(run.stderr).not.toMatch(/Error/);
    expect(JSON.parse(run.stdout)).toMatchObject({ status: 'completed' });
    expect(run.code).toBe(0);
    const events = await platform.eventStore.readStream('pt');
    const of = <T extends 'policy.source.resolved' | 'checkpoint.saved' | 'evaluation.completed'>(type: T) =>
      events.filter((e) => e.type === type).map((e) => e.payload as PayloadOf<T>);

    const [source] = of('policy.source.resolved');
    const content = checkpointContent(checkpoint);
    expect(source).toEqual({
      kind: 'pretrained',
      path: checkpoint,
      architecture: 'Qwen2ForCausalLM',
      ...content,
    });
    expect(source.files.map((f) => f.path)).toContain('model-00002-of-00003.safetensors');
    expect(events.filter((e) => e.type === 'sft.step.completed')).toHaveLength(3);
    const [saved] = of('checkpoint.saved');
    const stored = decodeCheckpoint(await platform.blobStore.get(saved.checkpointHash), saved.checkpointHash);
    // Adapters only (2 layers x 2 targets x A, B) and the optimiser's moments; the base is the recorded directory.
    expect([...stored.weights.keys()].sort()).toHaveLength(8);
    expect([...stored.weights.keys()].every((name) => /\.lora_[AB]$/.test(name))).toBe(true);
    expect(Object.keys(stored.trainer.optimizer.moments)).toHaveLength(8);
    expect(of('evaluation.completed').map((e) => e.stage)).toEqual(['untrained', 'sft']);
    expect(events.filter((e) => e.type === 'evaluation.item.scored')).toHaveLength(2 * 3);
    expect(events.at(-1)!.type).toBe('run.completed');
    expect((await recon(['report', 'pt'])).stdout).toContain('SFT loss (3 steps');

    const peft = join(home, 'peft');
    expect((await recon(['export', 'pt', '--peft', peft])).code).toBe(0);
    const base = loadPretrained(checkpoint);
    const { model } = loadPretrained(checkpoint, { lora: { ...LORA, targets: ['q_proj', 'v_proj'] } });
    loadPeftAdapter(model, peft);
    const ids = tf.tensor2d([[3, 40, 77, 12]], undefined, 'int32');
    const delta = tf.max(tf.abs(tf.sub(model.logits(ids), base.model.logits(ids)))).dataSync()[0];
    expect(delta).toBeGreaterThan(0); // the trained adapters, not the zero-initialised ones
    tf.dispose(ids);
    base.model.dispose();
    model.dispose();

    const replay = await recon(['replay', 'pt', '--verify']);
    expect(replay.stdout).toMatch(/^identical: \d+ events of pt reproduced/);
    expect(replay.code).toBe(0);
  }, 300_000);

  it('refuses resume, replay and export once a file of the recorded directory changed', async () => {
    // An interrupted run: the first events of `pt`, up to its first SFT step, on a stream of their own.
    const events = await platform.eventStore.readStream('pt');
    const cut = events.findIndex((e) => e.type === 'sft.step.completed') + 1;
    await platform.eventStore.append(
      'pt-cut',
      events.slice(0, cut).map((e) => ({ type: e.type, payload: e.payload }) as NewEvent),
      { expectedVersion: 'no-stream', producer: TEST_PRODUCER },
    );
    const shard = join(checkpoint, 'model-00002-of-00003.safetensors');
    appendFileSync(shard, Buffer.from([0]));
    const changed = /model-00002-of-00003\.safetensors \(changed\)/;

    const resume = await recon(['resume', 'pt-cut', '--no-progress']);
    expect(resume.stderr).toMatch(
      /run pt-cut cannot be resumed: .*checkpoint differs from the one the run recorded/,
    );
    expect(resume.stderr).toMatch(changed);
    expect(resume.stderr).not.toMatch(/\n\s+at /); // no stack trace
    expect(resume.code).toBe(1);
    expect(await platform.eventStore.streamVersion('pt-cut')).toBe(cut); // nothing recorded

    const replay = await recon(['replay', 'pt', '--verify']);
    expect(replay.stderr).toMatch(changed);
    expect(replay.code).toBe(1);
    const exported = await recon(['export', 'pt', '--peft', join(home, 'peft-after')]);
    expect(exported.stderr).toMatch(changed);
    expect(exported.code).toBe(1);

    rmSync(join(checkpoint, 'tokenizer.json'));
    expect((await recon(['resume', 'pt-cut', '--no-progress'])).stderr).toMatch(
      /tokenizer\.json \(missing\)/,
    );
  }, 120_000);
});
