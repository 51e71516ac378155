/**
 * A random Llama checkpoint in Hugging Face layout (config.json, model.safetensors, tokenizer.json,
 * tokenizer_config.json), generated once and cached in a directory named by its settings.
 * Run as a script (`node random-checkpoint.js '<json>'`) it writes one, so the bench's own peak RSS does not
 * include the generator's buffers.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Rng } from '@recon/policy';
import { expectedTensors, parseHfConfig } from '@recon/pretrained';
import type { DecoderShape } from './decoder-shape';
import { repoPath } from './repo-path';

/** The committed tiny Llama's byte-level BPE (320 tokens): ids past it are embedding rows no text maps to. */
const TOKENIZER_SOURCE = repoPath('libs/pretrained/fixtures/tiny-llama');
const TOKENIZER_FILES = ['tokenizer.json', 'tokenizer_config.json'];
/** Written last: a directory without it is an interrupted write. */
const COMPLETE = 'complete';
/** Weights' standard deviation (uniform in ±std·√3), as transformers' initializer_range. */
const STD = 0.02;

export interface CheckpointSettings {
  shape: DecoderShape;
  seed: number;
  maxPositions: number;
}

export function hfConfig({ shape, maxPositions }: CheckpointSettings): Record<string, unknown> {
  return {
    architectures: ['LlamaForCausalLM'],
    model_type: 'llama',
    hidden_size: shape.hidden,
    intermediate_size: shape.intermediate,
    num_hidden_layers: shape.layers,
    num_attention_heads: shape.heads,
    num_key_value_heads: shape.kvHeads,
    head_dim: shape.headDim,
    vocab_size: shape.vocab,
    max_position_embeddings: maxPositions,
    rms_norm_eps: 1e-6,
    rope_theta: 10_000,
    hidden_act: 'silu',
    attention_bias: shape.qkvBias,
    mlp_bias: false,
    tie_word_embeddings: shape.tieEmbeddings,
    bos_token_id: 3,
    eos_token_id: 2,
    torch_dtype: 'float32',
  };
}

/** The cache directory of these settings under `root`: the hash of everything that goes into the files. */
export function checkpointDir(root: string, settings: CheckpointSettings): string {
  const key = createHash('sha256')
    .update(JSON.stringify({ config: hfConfig(settings), seed: settings.seed, std: STD, format: 1 }))
    .digest('hex')
    .slice(0, 16);
  return path.join(root, `random-llama-${key}`);
}

export function isComplete(dir: string): boolean {
  return fs.existsSync(path.join(dir, COMPLETE));
}

/** Tensor names and shapes exactly as loadPretrained expects them (HF layout: Linear weights [out, in]). */
function tensorShapes(settings: CheckpointSettings): Map<string, number[]> {
  const spec = parseHfConfig(hfConfig(settings), 'random checkpoint config');
  return expectedTensors(spec);
}

/**
 * Writes the checkpoint into `dir` (replacing an incomplete one): one float32 safetensors file written
 * tensor by tensor, in the reference writer's layout (names sorted, header padded to 8 bytes).
 */
export function writeRandomCheckpoint(dir: string, settings: CheckpointSettings): void {
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  const shapes = tensorShapes(settings);
  const names = [...shapes.keys()].sort();
  const header: Record<string, unknown> = { __metadata__: { format: 'pt' } };
  let offset = 0;
  for (const name of names) {
    const bytes = 4 * shapes.get(name)!.reduce((a, b) => a * b, 1);
    header[name] = { dtype: 'F32', shape: shapes.get(name), data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (Buffer.byteLength(json) % 8)) % 8);
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
  const fd = fs.openSync(path.join(dir, 'model.safetensors'), 'w');
  try {
    fs.writeSync(fd, length);
    fs.writeSync(fd, json);
    const rng = new Rng(settings.seed);
    const bound = STD * Math.sqrt(3);
    for (const name of names) {
      const count = shapes.get(name)!.reduce((a, b) => a * b, 1);
      // Norm weights near 1 (exercising them), everything else small and centred.
      const [centre, spread] = name.endsWith('norm.weight') ? [1, 0.1] : [0, bound];
      const values = new Float32Array(count);
      for (let i = 0; i < count; i++) values[i] = centre + spread * (rng.next() * 2 - 1);
      fs.writeSync(fd, new Uint8Array(values.buffer));
    }
  } finally {
    fs.closeSync(fd);
  }
  fs.writeFileSync(path.join(dir, 'config.json'), `${JSON.stringify(hfConfig(settings), null, 2)}\n`);
  for (const file of TOKENIZER_FILES)
    fs.copyFileSync(path.join(TOKENIZER_SOURCE, file), path.join(dir, file));
  fs.writeFileSync(path.join(dir, COMPLETE), '');
}

if (require.main === module) {
  const [dir, json] = process.argv.slice(2);
  if (!dir || !json) {
    console.error("usage: node random-checkpoint.js <dir> '<settings json>'");
    process.exit(2);
  }
  writeRandomCheckpoint(dir, JSON.parse(json) as CheckpointSettings);
}
