import * as tf from '@tensorflow/tfjs-core';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  adaptersOffReference,
  selectBackend,
  generate,
  GrpoTrainer,
  type RolloutGroup,
  SftTrainer,
  type TokenSequence,
} from '@recon/policy';
import { HfTokenizer } from './hf-tokenizer';
import { loadPretrained } from './load-pretrained';
import { loadPeftAdapter, peftTensorName, savePeftAdapter } from './peft-adapter';
import { readSafetensors } from './safetensors';

const FIXTURES = path.resolve(__dirname, '../fixtures');
const QWEN = path.join(FIXTURES, 'tiny-qwen2');
const LORA = {
  rank: 4,
  alpha: 8,
  targets: ['q_proj', 'v_proj', 'o_proj', 'gate_proj', 'down_proj'] as const,
};

beforeAll(async () => {
  await selectBackend('wasm');
});

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

function examples(tokenizer: HfTokenizer): TokenSequence[] {
  const pairs = [
    ['The buyer offers 40.', ' Answer: <s>choice_1</s>'],
    ['Both players defect.', ' Answer: <s>choice_2</s>'],
    ['Marginal revenue equals marginal cost.', ' Answer: <s>choice_1</s>'],
  ];
  return pairs.map(([prompt, completion]) => {
    const p = tokenizer.encode(tokenizer.applyChatTemplate([{ role: 'user', content: prompt }]));
    return { tokens: [...p, ...tokenizer.encode(completion)], completionStart: p.length };
  });
}

function trainSft(seed = 3) {
  const { model } = loadPretrained(QWEN, { lora: { ...LORA, targets: [...LORA.targets] }, seed });
  const tokenizer = HfTokenizer.load(QWEN);
  const trainer = new SftTrainer(model, examples(tokenizer), {
    batchSize: 3,
    padId: 0,
    seed: 1,
    schedule: { type: 'constant', learningRate: 0.02, totalSteps: 10 },
  });
  const losses = Array.from({ length: 6 }, () => trainer.trainStep().loss);
  trainer.dispose();
  return { model, losses, tokenizer };
}

describe('LoRA on a pretrained checkpoint', () => {
  it('starts equal to the base model and trains only the adapters', () => {
    const { model: base } = loadPretrained(QWEN);
    const { model } = loadPretrained(QWEN, { lora: { ...LORA, targets: [...LORA.targets] } });
    const ids = tf.tensor2d([[5, 9, 30, 41, 2]], undefined, 'int32');
    expect(maxAbsDiff(model.logits(ids).dataSync(), base.logits(ids).dataSync())).toBe(0);
    // 2 layers x 5 targets x (A, B)
    expect([...model.trainableWeights().keys()]).toHaveLength(20);
    expect(model.trainableWeights().get('model.layers.1.mlp.down_proj.lora_A')!.shape).toEqual([96, 4]);
    expect([...model.namedWeights().keys()].every((n) => /\.lora_[AB]$/.test(n))).toBe(true);
    tf.dispose(ids);
    base.dispose();
    model.dispose();
  });

  it('SFT through the existing trainer lowers the loss and leaves the base weights untouched', () => {
    const { model: base } = loadPretrained(QWEN);
    const { model, losses } = trainSft();
    expect(losses[5]).toBeLessThan(losses[0] * 0.8);
    const name = 'model.layers.0.self_attn.q_proj.weight';
    expect(maxAbsDiff(model.baseWeight(name).dataSync(), base.baseWeight(name).dataSync())).toBe(0);
    const b = model.trainableWeights().get('model.layers.0.self_attn.q_proj.lora_B')!;
    expect(maxAbsDiff(b.dataSync(), new Float32Array(b.size))).toBeGreaterThan(0);
    base.dispose();
    model.dispose();
  });

  it('GRPO through the existing trainer, rollouts from the shared sampler, KL against adapters off', () => {
    const { model } = loadPretrained(QWEN, { lora: { ...LORA, targets: [...LORA.targets] }, seed: 5 });
    const tokenizer = HfTokenizer.load(QWEN);
    const prompt = tokenizer.encode(
      tokenizer.applyChatTemplate([{ role: 'user', content: 'Buyer offers 40.' }]),
    );
    const completions = generate(
      model,
      { decode: (ids) => tokenizer.decode(ids) },
      [0, 1, 2, 3].map((seed) => ({ promptIds: prompt, seed })),
      { maxTokens: 6, temperature: 1 },
    );
    expect(completions.map((c) => c.tokens.length)).toEqual([6, 6, 6, 6]);
    const groups: RolloutGroup[] = [
      {
        promptIds: prompt,
        completions: completions.map((c, i) => ({
          completionIds: c.tokens,
          rewards: { correct: i % 2 === 0 ? 1 : 0 },
          truncated: c.truncated,
        })),
      },
    ];
    const trainer = new GrpoTrainer(model, adaptersOffReference(model), {
      grpo: { numGenerations: 4, beta: 0.04, lossType: 'grpo', maxCompletionLength: 6 },
      microBatchSize: 4,
      maxGradNorm: 1,
      padId: 0,
      schedule: { type: 'constant', learningRate: 0.01, totalSteps: 10 },
    });
    const [metrics] = trainer.train(groups);
    expect(metrics.kl).toBeCloseTo(0, 6); // adapters start at B = 0: the policy is the reference
    const [next] = trainer.train(groups);
    expect(next.kl).toBeGreaterThan(0);
    trainer.dispose();
    model.dispose();
  });
});

describe('PEFT adapter export', () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'recon-peft-'));
  const ids = [[3, 40, 77, 12, 9, 150, 2, 31]];

  it('writes PEFT names and shapes, and loads back to the same logits', () => {
    const { model, lora } = (() => {
      const trained = trainSft();
      return { model: trained.model, lora: trained.model.lora! };
    })();
    savePeftAdapter(model, out, { baseModel: QWEN });
    const config = JSON.parse(fs.readFileSync(path.join(out, 'adapter_config.json'), 'utf8'));
    expect(config).toMatchObject({
      peft_type: 'LORA',
      r: 4,
      lora_alpha: 8,
      target_modules: [...LORA.targets],
    });
    const tensors = readSafetensors(path.join(out, 'adapter_model.safetensors'));
    expect(tensors.get('base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight')!.shape).toEqual([
      4, 64,
    ]);
    expect(tensors.get('base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight')!.shape).toEqual([
      64, 4,
    ]);
    expect(tensors.size).toBe(20);

    const { model: fresh } = loadPretrained(QWEN, { lora, seed: 99 });
    loadPeftAdapter(fresh, out);
    const input = tf.tensor2d(ids, undefined, 'int32');
    expect(maxAbsDiff(fresh.logits(input).dataSync(), model.logits(input).dataSync())).toBe(0);
    fs.writeFileSync(path.join(out, 'ours.json'), JSON.stringify([...model.logits(input).dataSync()]));
    expect(peftTensorName('x.lora_A')).toBe('base_model.model.x.lora_A.weight');
    tf.dispose(input);
    model.dispose();
    fresh.dispose();
  });

  it('refuses an adapter whose rank differs from the model LoRA', () => {
    const { model } = loadPretrained(QWEN, { lora: { ...LORA, rank: 2, targets: [...LORA.targets] } });
    expect(() => loadPeftAdapter(model, out)).toThrow(/adapter_config\.json: r is 4, the model's LoRA has 2/);
    model.dispose();
  });

  // PEFT itself loading our adapter onto transformers' model: needs a Python with torch, transformers and
  // peft (RECON_HF_PYTHON; see reference/make_tiny_checkpoints.py), skipped (not passed) without one.
  const python = process.env.RECON_HF_PYTHON ?? '/tmp/hfvenv/bin/python';
  const hasPeft =
    fs.existsSync(python) &&
    spawnSync(python, ['-c', 'import peft, transformers'], { stdio: 'ignore' }).status === 0;
  (hasPeft ? it : it.skip)('PEFT loads the exported adapter: same logits, same LoRA gradients', () => {
    const targets = [ids[0].slice(1).concat(5)];
    const script = path.resolve(__dirname, '../reference/peft_logits.py');
    const run = spawnSync(python, [script, QWEN, out], {
      input: JSON.stringify({ ids, targets }),
      encoding: 'utf8',
    });
    expect(run.stderr).not.toMatch(/Traceback/);
    const theirs = JSON.parse(run.stdout) as { logits: number[][][]; grads: Record<string, number[][]> };
    const ours = JSON.parse(fs.readFileSync(path.join(out, 'ours.json'), 'utf8')) as number[];
    expect(theirs.logits.flat(2)).toHaveLength(ours.length);
    expect(maxAbsDiff(theirs.logits.flat(2), ours)).toBeLessThan(1e-4);

    const { model } = loadPretrained(QWEN, { lora: { ...LORA, targets: [...LORA.targets] } });
    loadPeftAdapter(model, out);
    const weights = [...model.trainableWeights()];
    const input = tf.tensor2d(ids, undefined, 'int32');
    const target = tf.tensor2d(targets, undefined, 'int32');
    const { grads } = tf.variableGrads(
      () => tf.neg(tf.mean(model.sequenceLogProbs(input, target).logProbs)) as tf.Scalar,
      weights.map(([, w]) => w),
    );
    expect(Object.keys(theirs.grads)).toHaveLength(weights.length);
    for (const [name, weight] of weights) {
      // PEFT's [out, in] layout is the transpose of ours.
      const peft = theirs.grads[peftTensorName(name)];
      const mine = tf.transpose(grads[weight.name]).dataSync();
      const scale = Math.max(...peft.flat().map(Math.abs), 1e-6);
      expect(maxAbsDiff(mine, peft.flat()) / scale).toBeLessThan(1e-3);
    }
    tf.dispose([input, target, ...Object.values(grads)]);
    model.dispose();
  });
});
