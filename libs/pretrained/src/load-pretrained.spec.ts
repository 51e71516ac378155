import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { assertSameCheckpoint, checkpointContent } from './checkpoint-dir';
import { parseHfConfig } from './hf-config';
import { loadPretrained } from './load-pretrained';
import { inverseFrequencies } from './rope';
import { readSafetensors, writeSafetensors } from './safetensors';

const FIXTURES = path.resolve(__dirname, '../fixtures');
const LLAMA = path.join(FIXTURES, 'tiny-llama');
const QWEN = path.join(FIXTURES, 'tiny-qwen2');

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** A writable copy of a fixture checkpoint. */
function copyOf(dir: string): string {
  const copy = fs.mkdtempSync(path.join(os.tmpdir(), 'recon-pretrained-'));
  for (const f of fs.readdirSync(dir)) fs.copyFileSync(path.join(dir, f), path.join(copy, f));
  return copy;
}

function editJson(file: string, edit: (json: Record<string, unknown>) => void): void {
  const json = JSON.parse(fs.readFileSync(file, 'utf8'));
  edit(json);
  fs.writeFileSync(file, JSON.stringify(json));
}

describe('loadPretrained refuses what it cannot load, naming it', () => {
  it('an unsupported architecture', () => {
    const dir = copyOf(LLAMA);
    editJson(path.join(dir, 'config.json'), (c) => (c.architectures = ['MistralForCausalLM']));
    expect(() => loadPretrained(dir)).toThrow(
      /config\.json: architecture MistralForCausalLM is not supported \(supported: LlamaForCausalLM, Qwen2ForCausalLM\)/,
    );
  });

  it('an unsupported rope scaling type', () => {
    const dir = copyOf(LLAMA);
    editJson(path.join(dir, 'config.json'), (c) => {
      c.rope_parameters = { rope_type: 'yarn', factor: 4, rope_theta: 10000 };
    });
    expect(() => loadPretrained(dir)).toThrow(
      /rope_scaling type yarn is not supported \(supported: linear, llama3/,
    );
  });

  it('a missing config, weights file or shard', () => {
    const noConfig = copyOf(LLAMA);
    fs.rmSync(path.join(noConfig, 'config.json'));
    expect(() => loadPretrained(noConfig)).toThrow(/config\.json: file not found/);
    const noWeights = copyOf(LLAMA);
    fs.rmSync(path.join(noWeights, 'model.safetensors'));
    expect(() => loadPretrained(noWeights)).toThrow(
      /no model\.safetensors or model\.safetensors\.index\.json/,
    );
    const noShard = copyOf(QWEN);
    fs.rmSync(path.join(noShard, 'model-00002-of-00003.safetensors'));
    expect(() => loadPretrained(noShard)).toThrow(
      /model-00002-of-00003\.safetensors: file not found \(named by/,
    );
  });

  it('a tensor whose shape differs from what config.json implies, and a missing tensor', () => {
    const dir = copyOf(LLAMA);
    editJson(path.join(dir, 'config.json'), (c) => (c.intermediate_size = 128));
    expect(() => loadPretrained(dir)).toThrow(
      /tensor model\.layers\.0\.mlp\.gate_proj\.weight has shape \[96,64\], config\.json implies \[128,64\]/,
    );
    const deeper = copyOf(LLAMA);
    editJson(path.join(deeper, 'config.json'), (c) => (c.num_hidden_layers = 3));
    expect(() => loadPretrained(deeper)).toThrow(/checkpoint has no tensor model\.layers\.2\./);
  });

  it('a dtype it cannot load', () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'recon-st-')), 'x.safetensors');
    const header = JSON.stringify({ w: { dtype: 'I8', shape: [2], data_offsets: [0, 2] } });
    const length = Buffer.alloc(8);
    length.writeBigUInt64LE(BigInt(header.length));
    fs.writeFileSync(file, Buffer.concat([length, Buffer.from(header), Buffer.from([1, 2])]));
    expect(() => readSafetensors(file)).toThrow(/tensor w has dtype I8; only F32, F16 and BF16 load/);
  });

  it('a file that is not safetensors', () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'recon-st-')), 'x.safetensors');
    fs.writeFileSync(file, 'not a safetensors file at all');
    expect(() => readSafetensors(file)).toThrow(/not a safetensors file \(header length/);
  });
});

describe('safetensors', () => {
  it('round-trips float32 tensors and widens fp16 / bf16 exactly', () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'recon-st-')), 'x.safetensors');
    const tensors = new Map([
      ['a.weight', { shape: [2, 3], values: Float32Array.from([1, -2, 0.5, 3e-8, 65504, -0]) }],
    ]);
    writeSafetensors(file, tensors);
    const back = readSafetensors(file).get('a.weight')!;
    expect(back.shape).toEqual([2, 3]);
    expect([...back.values]).toEqual([...tensors.get('a.weight')!.values]);
    // fp16 1.5 = 0x3e00, fp16 smallest subnormal 0x0001 = 2^-24; bf16 -2.5 = 0xc020.
    const header = JSON.stringify({
      h: { dtype: 'F16', shape: [2], data_offsets: [0, 4] },
      b: { dtype: 'BF16', shape: [1], data_offsets: [4, 6] },
    });
    const length = Buffer.alloc(8);
    length.writeBigUInt64LE(BigInt(header.length));
    const data = Buffer.alloc(6);
    data.writeUInt16LE(0x3e00, 0);
    data.writeUInt16LE(0x0001, 2);
    data.writeUInt16LE(0xc020, 4);
    fs.writeFileSync(file, Buffer.concat([length, Buffer.from(header), data]));
    const mixed = readSafetensors(file);
    expect([...mixed.get('h')!.values]).toEqual([1.5, 2 ** -24]);
    expect([...mixed.get('b')!.values]).toEqual([-2.5]);
  });
});

describe('config.json', () => {
  const base = {
    architectures: ['LlamaForCausalLM'],
    hidden_size: 64,
    intermediate_size: 96,
    num_hidden_layers: 2,
    num_attention_heads: 4,
    num_key_value_heads: 2,
    vocab_size: 100,
    max_position_embeddings: 128,
    rms_norm_eps: 1e-5,
  };

  it('reads transformers 4 fields (rope_theta, rope_scaling) and Qwen2 biases', () => {
    const spec = parseHfConfig({ ...base, rope_theta: 500000, rope_scaling: { type: 'linear', factor: 2 } });
    expect(spec).toMatchObject({
      ropeTheta: 500000,
      ropeScaling: { type: 'linear', factor: 2 },
      headDim: 16,
    });
    expect(spec.biases).toEqual({ qkv: false, o: false, mlp: false });
    const qwen = parseHfConfig({ ...base, architectures: ['Qwen2ForCausalLM'], tie_word_embeddings: true });
    expect(qwen.biases).toEqual({ qkv: true, o: false, mlp: false });
    expect(qwen.tieEmbeddings).toBe(true);
  });

  it('refuses sliding-window attention and non-silu activations', () => {
    expect(() => parseHfConfig({ ...base, use_sliding_window: true })).toThrow(/sliding-window/);
    expect(() => parseHfConfig({ ...base, hidden_act: 'gelu' })).toThrow(/hidden_act gelu is not supported/);
  });

  it('llama3 scaling keeps high frequencies, divides low ones by the factor', () => {
    const spec = {
      headDim: 16,
      ropeTheta: 10000,
      ropeScaling: {
        type: 'llama3' as const,
        factor: 4,
        lowFreqFactor: 1,
        highFreqFactor: 4,
        originalMaxPositions: 64,
      },
    };
    const plain = inverseFrequencies({ ...spec, ropeScaling: undefined });
    const scaled = inverseFrequencies(spec);
    expect(scaled[0]).toBe(plain[0]);
    expect(scaled[7]).toBeCloseTo(plain[7] / 4, 10);
  });
});

describe('checkpoint content hash', () => {
  it('names every file and refuses a directory whose files changed', () => {
    const dir = copyOf(LLAMA);
    const recorded = checkpointContent(dir);
    expect(recorded.files.map((f) => f.path)).toEqual(fs.readdirSync(LLAMA).sort());
    expect(() => assertSameCheckpoint(dir, recorded)).not.toThrow();
    editJson(path.join(dir, 'config.json'), (c) => (c.rms_norm_eps = 1e-5));
    fs.writeFileSync(path.join(dir, 'extra.txt'), 'x');
    expect(() => assertSameCheckpoint(dir, recorded)).toThrow(
      /checkpoint differs from the one the run recorded .*config\.json \(changed\), extra\.txt \(added\)/,
    );
  });
});
