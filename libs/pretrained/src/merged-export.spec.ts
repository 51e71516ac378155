import * as tf from '@tensorflow/tfjs-core';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { selectBackend } from '@recon/policy';
import { Mulberry32 } from '@recon/random';
import { adaptersOf, type LoraAdapters } from './adapter-weights';
import { INDEX_FILE } from './checkpoint-dir';
import { ExportTargetNotEmptyError } from './export-target';
import { loadPretrained } from './load-pretrained';
import { type LoraSettingsInput } from './lora-settings';
import { type MergedDtype, writeMergedCheckpoint } from './merged-export';
import { savePeftAdapter } from './peft-adapter';
import type { PretrainedCausalLM } from './pretrained-model';
import { readSafetensorsHeader } from './safetensors';

const FIXTURES = path.resolve(__dirname, '../fixtures');
const LORA: LoraSettingsInput = {
  rank: 4,
  alpha: 8,
  targets: ['q_proj', 'v_proj', 'o_proj', 'up_proj', 'down_proj'],
};
const IDS = [
  [3, 40, 77, 12, 9, 150, 2, 31, 200, 64],
  [5, 9, 30, 41, 2, 17, 88, 120, 7, 1],
];
/** float32 merge: only the order of float32 sums differs from base + adapter. */
const FLOAT32_TOLERANCE = 1e-4;
/**
 * Source dtype: every merged weight is rounded to the nearest bf16 (8 significant bits, relative error up to
 * 2^-9) or fp16 (11 bits, 2^-12); on these random tiny models (weights ~0.2·N(0,1), logits of a few units)
 * that moves logits by up to ~0.05 (bf16) and ~0.01 (fp16).
 */
const ROUNDED_TOLERANCE = { 'tiny-qwen2': 0.1, 'tiny-llama': 0.02 } as const;

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** The fixture with LoRA adapters of random, clearly non-zero A and B (as trained ones would be). */
function adaptedFixture(dir: string, seed = 11): PretrainedCausalLM {
  const { model } = loadPretrained(dir, { lora: LORA, seed });
  const rng = new Mulberry32(seed);
  for (const weight of model.namedWeights().values()) {
    const values = Float32Array.from({ length: weight.size }, () => (rng.next() * 2 - 1) * 0.3);
    tf.tidy(() => weight.assign(tf.tensor(values, weight.shape)));
  }
  return model;
}

function logitsOf(model: PretrainedCausalLM): Float32Array {
  return tf.tidy(() => model.logits(tf.tensor2d(IDS, undefined, 'int32')).dataSync() as Float32Array);
}

function mergedLogits(dir: string): Float32Array {
  const { model } = loadPretrained(dir);
  try {
    return logitsOf(model);
  } finally {
    model.dispose();
  }
}

const scratch = () => fs.mkdtempSync(path.join(os.tmpdir(), 'recon-merged-'));

beforeAll(async () => {
  await selectBackend('cpu');
});

describe.each(['tiny-qwen2', 'tiny-llama'] as const)('a merged export of %s', (name) => {
  const source = path.join(FIXTURES, name);
  let adapted: PretrainedCausalLM;
  let adapters: LoraAdapters;
  let expected: Float32Array;
  let base: Float32Array;
  beforeAll(() => {
    adapted = adaptedFixture(source);
    adapters = adaptersOf(adapted);
    expected = logitsOf(adapted);
    adapted.setAdaptersEnabled(false);
    base = logitsOf(adapted);
    adapted.setAdaptersEnabled(true);
  });
  afterAll(() => adapted.dispose());

  it('in float32 gives the logits of base + adapters; the adapters matter', () => {
    const out = scratch();
    const result = writeMergedCheckpoint(source, adapters, out, { dtype: 'float32' });
    expect(result.mergedTensors).toHaveLength(2 * 5);
    const logits = mergedLogits(out);
    expect(maxAbsDiff(logits, expected)).toBeLessThan(FLOAT32_TOLERANCE);
    expect(maxAbsDiff(logits, base)).toBeGreaterThan(0.5);
    const header = readSafetensorsHeader(path.join(out, 'model.safetensors'));
    expect(new Set([...header.tensors.values()].map((t) => t.dtype))).toEqual(new Set(['F32']));
    const config = JSON.parse(fs.readFileSync(path.join(out, 'config.json'), 'utf8'));
    expect(config.dtype).toBe('float32');
  });

  it('in the source dtype keeps every tensor name, dtype and shape, and the other files byte for byte', () => {
    const out = scratch();
    const result = writeMergedCheckpoint(source, adapters, out);
    const logits = mergedLogits(out);
    const error = maxAbsDiff(logits, expected);
    expect(error).toBeLessThan(ROUNDED_TOLERANCE[name]);
    expect(maxAbsDiff(logits, base)).toBeGreaterThan(10 * error);
    const sourceTensors = new Map<string, unknown>();
    for (const file of fs.readdirSync(source).filter((f) => f.endsWith('.safetensors')))
      for (const [tensor, { dtype, shape }] of readSafetensorsHeader(path.join(source, file)).tensors)
        sourceTensors.set(tensor, { dtype, shape });
    const mergedTensors = new Map<string, unknown>();
    for (const [tensor, { dtype, shape }] of readSafetensorsHeader(path.join(out, 'model.safetensors'))
      .tensors)
      mergedTensors.set(tensor, { dtype, shape });
    expect(mergedTensors).toEqual(sourceTensors);
    const others = fs.readdirSync(source).filter((f) => !f.includes('safetensors'));
    expect(result.copiedFiles).toEqual(others.sort());
    for (const file of others)
      expect(fs.readFileSync(path.join(out, file))).toEqual(fs.readFileSync(path.join(source, file)));
    expect(fs.readdirSync(out).sort()).toEqual([...others, 'model.safetensors'].sort());
  });

  it('shards past the shard size with an index, to the same weights', () => {
    const single = scratch();
    const sharded = scratch();
    writeMergedCheckpoint(source, adapters, single);
    const result = writeMergedCheckpoint(source, adapters, sharded, { maxShardBytes: 40_000 });
    expect(result.weightFiles.length).toBeGreaterThan(2);
    expect(result.weightFiles[0]).toBe(`model-00001-of-0000${result.weightFiles.length}.safetensors`);
    const index = JSON.parse(fs.readFileSync(path.join(sharded, INDEX_FILE), 'utf8'));
    expect(index.metadata.total_size).toBe(result.totalBytes);
    expect(new Set(Object.values(index.weight_map))).toEqual(new Set(result.weightFiles));
    for (const file of result.weightFiles) {
      const { tensors } = readSafetensorsHeader(path.join(sharded, file));
      const bytes = [...tensors.values()].reduce((sum, t) => sum + t.data_offsets[1] - t.data_offsets[0], 0);
      // A shard is only over the limit when a single tensor is.
      expect(bytes <= 40_000 || tensors.size === 1).toBe(true);
    }
    expect(maxAbsDiff(mergedLogits(sharded), mergedLogits(single))).toBe(0);
  });
});

describe('writing a merged export', () => {
  const source = path.join(FIXTURES, 'tiny-qwen2');
  let adapters: LoraAdapters;
  beforeAll(() => {
    const model = adaptedFixture(source);
    adapters = adaptersOf(model);
    model.dispose();
  });

  it('refuses a non-empty directory unless asked to overwrite, then leaves no stale shard', () => {
    const out = scratch();
    writeMergedCheckpoint(source, adapters, out, { maxShardBytes: 40_000 });
    expect(() => writeMergedCheckpoint(source, adapters, out)).toThrow(ExportTargetNotEmptyError);
    writeMergedCheckpoint(source, adapters, out, { overwrite: true });
    expect(fs.readdirSync(out).filter((f) => f.includes('safetensors'))).toEqual(['model.safetensors']);
  });

  it('refuses to write into the source directory', () => {
    expect(() => writeMergedCheckpoint(source, adapters, source, { overwrite: true })).toThrow(
      /is the source checkpoint directory/,
    );
  });

  it('refuses adapters that do not fit the source weights, naming the module', () => {
    const weights = new Map(adapters.weights);
    const name = 'model.layers.1.self_attn.q_proj.lora_A';
    weights.set(name, { shape: [63, 4], values: new Float32Array(63 * 4) });
    expect(() => writeMergedCheckpoint(source, { ...adapters, weights }, scratch())).toThrow(
      'adapter model.layers.1.self_attn.q_proj: lora_A [63,4] and lora_B [4,64] do not fit model.layers.1.self_attn.q_proj.weight [64,64] at rank 4',
    );
    weights.delete(name);
    expect(() => writeMergedCheckpoint(source, { ...adapters, weights }, scratch())).toThrow(
      'adapter model.layers.1.self_attn.q_proj: needs both lora_A and lora_B',
    );
  });
});

// An independent check (reference/merged_reference.py): PyTorch merges the exported PEFT adapter into the
// source weights and rounds them itself, and runs its own forward pass on the merged directory. Needs only
// torch (RECON_TORCH_PYTHON, default /usr/bin/python3); skipped (not passed) without it.
const PYTHON = process.env.RECON_TORCH_PYTHON ?? '/usr/bin/python3';
const torchAvailable = spawnSync(PYTHON, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0;

(torchAvailable ? describe : describe.skip)('a merged export checked by PyTorch', () => {
  const script = path.resolve(__dirname, '../reference/merged_reference.py');

  it.each([
    ['tiny-qwen2', 'source'],
    ['tiny-llama', 'source'],
    ['tiny-qwen2', 'float32'],
  ] as const)(
    '%s in the %s dtype: every tensor as PyTorch merges and rounds it, the same logits',
    (name, dtype: MergedDtype) => {
      const source = path.join(FIXTURES, name);
      const model = adaptedFixture(source);
      const peft = scratch();
      const out = scratch();
      savePeftAdapter(model, peft);
      writeMergedCheckpoint(source, adaptersOf(model), out, { dtype });
      const expected = logitsOf(model);
      model.dispose();
      const run = spawnSync(PYTHON, [script, source, peft, out], {
        input: JSON.stringify({ ids: IDS }),
        encoding: 'utf8',
        maxBuffer: 64 * 1024 * 1024,
      });
      expect(run.stderr).not.toMatch(/Traceback/);
      const theirs = JSON.parse(run.stdout) as {
        tensors: Record<string, { differing?: number; missing?: boolean; added?: boolean }>;
        logits: number[][][];
      };
      const differing = Object.entries(theirs.tensors).filter(([, t]) => t.differing !== 0);
      expect(differing).toEqual([]);
      const ours = mergedLogits(out);
      expect(maxAbsDiff(theirs.logits.flat(2), ours)).toBeLessThan(FLOAT32_TOLERANCE);
      const tolerance = dtype === 'float32' ? FLOAT32_TOLERANCE : ROUNDED_TOLERANCE[name];
      expect(maxAbsDiff(theirs.logits.flat(2), expected)).toBeLessThan(tolerance);
    },
  );
});
