import type { BackendName } from '../backend/select-backend';
import { attentionChunkSequences, blasAttentionFits } from './causal-attention';

/**
 * The largest heap tfjs-backend-wasm 4.x can grow to (its emscripten build's getHeapMax: 4 GiB less 64 KiB).
 * An allocation past it ends the wasm instance (`Aborted()`, or `memory access out of bounds`).
 */
export const WASM_HEAP_LIMIT_BYTES = 4_294_901_760;

/** The wasm heap limit of a backend, or null when it has none of its own (native TensorFlow, cpu). */
export function backendMemoryLimit(backend: BackendName): number | null {
  return backend === 'wasm' || backend === 'wasm-openblas' ? WASM_HEAP_LIMIT_BYTES : null;
}

/** What the estimates need of a built-in transformer. */
export interface ModelShape {
  vocabSize: number;
  dModel: number;
  layers: number;
  heads: number;
  mlpRatio?: number;
}

/** One forward and backward pass: `rows` sequences padded to `length` tokens. */
export interface TrainingPassShape {
  rows: number;
  length: number;
  /** GRPO also scores entropy and KL: a few more [rows, length, vocab] tensors. */
  grpo?: boolean;
  /** wasm-openblas takes the all-heads attention (chunks of sequences); wasm, the per-head blocks. */
  openblas?: boolean;
}

const MIB = 2 ** 20;
/** The backend's own buffers, the mask, int inputs, allocator slack. */
const BASE_BYTES = 128 * MIB;

/**
 * Peak wasm heap of one training pass (forward, backward, update), an upper estimate fitted on measured
 * heaps (wasm and wasm-openblas, T 768 to 2,048, 4 to 32 rows, dModel 32 to 128, 1 to 3 layers, vocab
 * 256 to 1,024; docs/policy.md), 0-10% above them: per token, (24 x mlpRatio + 40) x dModel floats per
 * layer on wasm, (24 x mlpRatio + 8) on wasm-openblas (activations kept for the backward pass and its
 * transients), and vocab x 12 (SFT) or 18 (GRPO: entropy, KL) floats on wasm, 8 or 14 on wasm-openblas
 * (logits, softmax, their gradients); the attention's backward holds about 10 score tensors [T, T] per head
 * at once, or 8 [chunk x H, T, T] on OpenBLAS; each layer keeps a causal mask [T, T]; the weights with
 * their gradient, AdamW moments and accumulated gradients, 8 copies. Checked at T 6,144 x 2 rows too.
 */
export function trainingPassBytes(model: ModelShape, pass: TrainingPassShape): number {
  const mlpRatio = model.mlpRatio ?? 4;
  const tokens = pass.rows * pass.length;
  const allHeads = pass.openblas === true && blasAttentionFits(pass.length, model.heads);
  const perLayer = (24 * mlpRatio + (allHeads ? 8 : 40)) * model.dModel;
  const perVocab = (pass.openblas ? 8 : 12) + (pass.grpo ? 6 : 0);
  const perToken = model.layers * perLayer + perVocab * model.vocabSize;
  const square = 4 * pass.length * pass.length;
  const scores = allHeads
    ? 8 * Math.min(pass.rows, attentionChunkSequences(pass.length, model.heads)) * model.heads * square
    : 10 * square;
  // Each layer keeps its causal mask [T, T] for the backward pass, and the model makes one more.
  const masks = (model.layers + 1) * square;
  return BASE_BYTES + 4 * tokens * perToken + scores + masks + 8 * 4 * parameters(model, pass.length);
}

/** One batch of generation: `rows` prompts of up to `promptLength` tokens, continued up to `length` tokens. */
export interface GenerationShape {
  rows: number;
  promptLength: number;
  length: number;
}

/**
 * Peak wasm heap of batched generation with a KV cache, an upper estimate: the prompt's pass holds its
 * additive mask [rows, prompt, prompt] and about (4 x mlpRatio + 12) x dModel floats of activations per
 * prompt token; the cache holds keys and values of every layer ([rows, length, dModel] each, twice while
 * a step extends them).
 */
export function generationBytes(model: ModelShape, shape: GenerationShape): number {
  const mlpRatio = model.mlpRatio ?? 4;
  const { rows, promptLength, length } = shape;
  const mask = 4 * rows * promptLength * promptLength;
  const prompt = 4 * rows * promptLength * ((4 * mlpRatio + 12) * model.dModel + 2 * model.vocabSize);
  const cache = 4 * 2 * 2 * model.layers * rows * length * model.dModel;
  return BASE_BYTES + mask + prompt + cache + 2 * 4 * parameters(model, length);
}

/** Weights of the model (learned positions for `context` tokens; an untied head, the larger case). */
function parameters(model: ModelShape, context: number): number {
  const d = model.dModel;
  const hidden = (model.mlpRatio ?? 4) * d;
  return (
    2 * model.vocabSize * d + context * d + model.layers * (4 * d * d + 2 * d * hidden + 10 * d + hidden)
  );
}

/** A byte count for messages: `3.2 GB`, `410 MB`. */
export function formatBytes(bytes: number): string {
  return bytes >= 1e9 ? `${(bytes / 1e9).toFixed(1)} GB` : `${Math.ceil(bytes / 1e6)} MB`;
}
