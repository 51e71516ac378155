import { attentionChunkSequences, blasAttentionFits } from '@recon/policy';
import type { Projection } from '@recon/pretrained';
import { type DecoderShape, loraParameterCount, parameterCount } from './decoder-shape';

/*
 * Memory of LoRA training and generation with libs/pretrained's PretrainedCausalLM on tfjs, float32.
 *
 * Why it is what it is: tfjs's engine.gradients keeps every tensor a kernel's gradient needs until the backward
 * pass ends, and every gradient it computes (one per tensor on the path from the adapters to the loss, plus one
 * per contribution summed into it) until then too; custom gradients' intermediates (frozen-ops.ts, LoRA's
 * matmuls, logSoftmax) live as long. So a training step peaks at the end of its backward pass, with saved
 * activations and gradients of every layer at once: tens of floats per token per hidden unit, linear in the
 * shape. On the wasm backends a saved tensor is a copy (their Identity kernel copies; cpu's and tfjs-node's
 * share the buffer), and without OpenBLAS's transpose flags (frozen-ops.ts, libs/policy ops.ts) the backward
 * pass materialises transposes: of the activations for the adapters' gradients, and of each frozen
 * projection weight in turn (freed after its product: one projection's copy at a time).
 *
 * The per-token coefficients below are measured, not derived by hand (memory-fit.ts): the tensor data a LoRA
 * step holds at its peak (meterTensorMemory, process-memory.ts) with 1 and 2 sequences of 32 tokens, on tiny
 * random Llamas varying one dimension at a time (rank 8, kvHeads < heads as in every model here). On wasm and
 * cpu the result is linear in the shape to 1e-4 (two shapes left out of the fit); on wasm-openblas to 2.4%
 * (its all-heads attention adds a heads x length term, which the fit folds into the others). The cpu backend
 * stands for tfjs-node(-gpu), whose Identity and Reshape kernels also share buffers (tfjs-node 4.22
 * sources); not measured on TensorFlow itself. Checked on the bench's 100M model (bench/README.md).
 */

const FLOAT = 4;
/** tfjs-backend-wasm's own buffers and allocator slack (as libs/policy's memory estimates). */
export const WASM_BASE_BYTES = 128 * 2 ** 20;

/** Backends by how they hold tensors: wasm copies saved tensors; the others share them. */
export type BackendFamily = 'wasm-openblas' | 'wasm' | 'shared-buffers';

export function backendFamily(backend: string): BackendFamily {
  if (backend === 'wasm-openblas' || backend === 'wasm') return backend;
  return 'shared-buffers';
}

/** The two adapter placements measured: attention projections, or all seven. */
const TARGET_SETS = {
  attention: ['q_proj', 'k_proj', 'v_proj', 'o_proj'],
  all: ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'],
} as const satisfies Record<string, readonly Projection[]>;
type TargetSet = keyof typeof TARGET_SETS;

/**
 * Floats per token: per layer hidden x D + q x (heads x headDim) + kv x (kvHeads x headDim) +
 * intermediate x I + headDim x d + perLayer; outside the layers vocab x V + embedding x D.
 */
interface Coefficients {
  hidden: number;
  q: number;
  kv: number;
  intermediate: number;
  headDim: number;
  perLayer: number;
  vocab: number;
  embedding: number;
}

/** From memory-fit.ts (`node dist/bench/pretrained/memory-fit.js`); cpu's stand for tfjs-node(-gpu). */
const PER_TOKEN: Record<BackendFamily, Record<TargetSet, Coefficients>> = {
  'wasm-openblas': {
    attention: {
      hidden: 34.95,
      q: 29.28,
      kv: 17.25,
      intermediate: 11,
      headDim: -2.5,
      perLayer: 271.5,
      vocab: 11,
      embedding: 3.17,
    },
    all: {
      hidden: 42.95,
      q: 29.28,
      kv: 17.25,
      intermediate: 21,
      headDim: -2.5,
      perLayer: 319.5,
      vocab: 11,
      embedding: 3.17,
    },
  },
  wasm: {
    attention: {
      hidden: 40.88,
      q: 27.5,
      kv: 23.5,
      intermediate: 11,
      headDim: 12,
      perLayer: 85.5,
      vocab: 11,
      embedding: 1.23,
    },
    all: {
      hidden: 51.88,
      q: 27.5,
      kv: 23.5,
      intermediate: 24,
      headDim: 12,
      perLayer: 133.5,
      vocab: 11,
      embedding: 1.23,
    },
  },
  'shared-buffers': {
    attention: {
      hidden: 34.9,
      q: 26.5,
      kv: 22.5,
      intermediate: 10,
      headDim: 7,
      perLayer: 80.5,
      vocab: 10,
      embedding: 0.2,
    },
    all: {
      hidden: 44.9,
      q: 26.5,
      kv: 22.5,
      intermediate: 23,
      headDim: 7,
      perLayer: 128.5,
      vocab: 10,
      embedding: 0.2,
    },
  },
};

export interface LoraShape {
  rank: number;
  targets: readonly Projection[];
}

export interface PassShape {
  /** Sequences in one forward/backward pass (a micro-batch). */
  rows: number;
  length: number;
}

export interface TrainingMemory {
  weights: number;
  /** Adapters, their gradients, the accumulated gradient and AdamW's two moments (5 copies). */
  adapters: number;
  /** Saved activations and gradients: tokens x floats per token. */
  activations: number;
  /** A causal mask [T, T] per layer, and the attention's score tensors at their peak. */
  attention: number;
  /** The largest frozen projection, transposed in the backward pass (backends without transpose flags). */
  transposedWeights: number;
  total: number;
}

function targetSet(targets: readonly Projection[]): TargetSet {
  const same = (set: readonly Projection[]) =>
    set.length === targets.length && set.every((p) => targets.includes(p));
  const found = (Object.keys(TARGET_SETS) as TargetSet[]).find((name) => same(TARGET_SETS[name]));
  if (!found)
    throw new Error(
      `lora-memory: coefficients are measured for adapters on ${TARGET_SETS.attention.join(', ')} or on all seven projections, not on ${targets.join(', ')}`,
    );
  return found;
}

/** Floats per token a training pass keeps at its peak (every layer, the embedding and the loss). */
export function trainingFloatsPerToken(shape: DecoderShape, lora: LoraShape, family: BackendFamily): number {
  if (shape.kvHeads === shape.heads)
    throw new Error('lora-memory: coefficients are measured with grouped-query attention (kvHeads < heads)');
  const c = PER_TOKEN[family][targetSet(lora.targets)];
  const layer =
    c.hidden * shape.hidden +
    c.q * shape.heads * shape.headDim +
    c.kv * shape.kvHeads * shape.headDim +
    c.intermediate * shape.intermediate +
    c.headDim * shape.headDim +
    c.perLayer;
  return shape.layers * layer + c.vocab * shape.vocab + c.embedding * shape.hidden;
}

export function trainingMemory(
  shape: DecoderShape,
  lora: LoraShape,
  pass: PassShape,
  options: { family: BackendFamily; chunking: boolean },
): TrainingMemory {
  const tokens = pass.rows * pass.length;
  const square = FLOAT * pass.length * pass.length;
  const openblas = options.family === 'wasm-openblas';
  // wasm-openblas: about 8 score tensors [C x heads, T, T] in the backward pass, C a chunk of sequences
  // (all rows without chunking); elsewhere the per-head blocks, about 10 [T, T] (libs/policy memory-estimate).
  const allHeads = openblas && blasAttentionFits(pass.length, shape.heads);
  const chunk = options.chunking
    ? Math.min(pass.rows, attentionChunkSequences(pass.length, shape.heads))
    : pass.rows;
  const scores = allHeads ? 8 * chunk * shape.heads * square : 10 * square;
  const memory = {
    weights: FLOAT * parameterCount(shape),
    adapters: 5 * FLOAT * loraParameterCount(shape, lora.rank, lora.targets),
    activations: FLOAT * tokens * trainingFloatsPerToken(shape, lora, options.family),
    attention: shape.layers * square + scores,
    // One frozen projection at a time: frozen-ops.ts frees each transpose as soon as its product exists.
    transposedWeights: openblas
      ? 0
      : FLOAT * Math.max(shape.hidden * shape.intermediate, shape.hidden * shape.heads * shape.headDim),
  };
  return { ...memory, total: Object.values(memory).reduce((a, b) => a + b, 0) };
}

export interface GenerationShape {
  rows: number;
  prompt: number;
  /** Prompt plus new tokens: the longest the KV cache grows. */
  length: number;
}

export interface GenerationMemory {
  weights: number;
  /** Keys and values of every layer at full length, twice while a step extends them. */
  kvCache: number;
  /**
   * The prompt's pass, one layer at a time (no gradient tape): that layer's activations (about 9 hidden + 8
   * q + 9 kv + 3 intermediate floats per token with adapters on the attention), its scores, masked scores and
   * probabilities [rows x heads, prompt, prompt] and the additive mask.
   */
  promptPass: number;
  total: number;
}

export function generationMemory(shape: DecoderShape, gen: GenerationShape): GenerationMemory {
  const kvPerToken = 2 * shape.layers * shape.kvHeads * shape.headDim;
  const kvCache = 2 * FLOAT * gen.rows * gen.length * kvPerToken;
  const q = shape.heads * shape.headDim;
  const kv = shape.kvHeads * shape.headDim;
  const square = FLOAT * gen.rows * gen.prompt * gen.prompt;
  const activations =
    FLOAT * gen.rows * gen.prompt * (9 * shape.hidden + 8 * q + 9 * kv + 3 * shape.intermediate);
  const memory = {
    weights: FLOAT * parameterCount(shape),
    kvCache,
    promptPass: activations + 3 * shape.heads * square + square,
  };
  return { ...memory, total: Object.values(memory).reduce((a, b) => a + b, 0) };
}
