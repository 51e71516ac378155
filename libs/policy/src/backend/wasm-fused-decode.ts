import * as tf from '@tensorflow/tfjs-core';
import type { BlasAddon, KvHandle } from './blas-addon';
import { blasAddon, wasmBlasActive, type WasmMemoryBackend } from './wasm-blas-matmul-kernel';

export const FUSED_DECODE_KERNEL = 'PolicyFusedDecode';

/**
 * Weights of the fused decoder's table, in native/blas-matmul/fused_decode.c's order: the model's
 * (W_*), then per layer (L_*), LoRA halves last (a, b of q, k, v, o, up, down).
 */
export const FUSED_GLOBAL_WEIGHTS = [
  'tok_embed.weight',
  'pos_embed.weight',
  'ln_f.gain',
  'ln_f.bias',
  'lm_head.weight',
];
export const FUSED_LAYER_WEIGHTS = [
  'ln1.gain',
  'ln1.bias',
  'attn.q.weight',
  'attn.q.bias',
  'attn.k.weight',
  'attn.k.bias',
  'attn.v.weight',
  'attn.v.bias',
  'attn.o.weight',
  'attn.o.bias',
  'ln2.gain',
  'ln2.bias',
  'mlp.up.weight',
  'mlp.up.bias',
  'mlp.down.weight',
  'mlp.down.bias',
  ...(['attn.q', 'attn.k', 'attn.v', 'attn.o', 'mlp.up', 'mlp.down'] as const).flatMap((p) => [
    `${p}.lora_a`,
    `${p}.lora_b`,
  ]),
];

/** Positions per chunk of a fused KV cache: memory is allocated a chunk at a time as decoding reaches it. */
export const FUSED_KV_CHUNK_POSITIONS = 64;

/** What the fused step needs of a model: its shape and its weights in table order. */
export interface FusedDecodeModel {
  /** vocab, dModel, layers, heads, context, MLP width, tied head (0/1), LoRA rank (0: none). */
  readonly dims: Int32Array;
  /** alpha / rank as the float32 that tf.mul applies. */
  readonly loraScale: number;
  /** The weight table: FUSED_GLOBAL_WEIGHTS then FUSED_LAYER_WEIGHTS per layer; null where absent. */
  readonly weights: FusedWeightTable;
}

/**
 * The weights' byte offsets on the wasm heap, looked up at every step: a training step or a checkpoint load
 * gives a variable new data, and data that moved to another backend and back sits elsewhere on the heap.
 * (About a hundred lookups a step, a few microseconds.)
 */
export class FusedWeightTable {
  private readonly offsets: Float64Array;

  constructor(private readonly tensors: readonly (tf.Tensor | null)[]) {
    this.offsets = new Float64Array(tensors.length).fill(-1);
  }

  /** The table on `backend` (data held elsewhere moves there), or null when a weight is disposed. */
  resolve(backend: WasmMemoryBackend): Float64Array | null {
    for (let i = 0; i < this.tensors.length; i++) {
      const tensor = this.tensors[i];
      if (tensor === null) continue;
      if (tensor.isDisposed || tensor.dtype !== 'float32') return null;
      this.offsets[i] = backend.dataIdMap.get(tensor.dataId).memoryOffset;
    }
    return this.offsets;
  }
}

/** A KV cache held by the addon, shared by the KvCache objects that decoding returns from it. */
class FusedKvStore {
  /** Positions written: a KvCache of a shorter length was decoded from since, and must not append here. */
  length = 0;
  private refs = 0;

  constructor(
    readonly addon: BlasAddon,
    readonly handle: KvHandle,
    readonly batch: number,
  ) {}

  ref(): FusedKv {
    this.refs++;
    return new FusedKv(this);
  }

  unref(): void {
    if (--this.refs === 0) this.addon.kvFree(this.handle);
  }
}

/**
 * A KvCache's reference to keys and values held by the fused decoder's addon (its `keys` and `values`
 * arrays are then empty). Released by disposeCache; the memory goes when no cache refers to it.
 */
export class FusedKv {
  private released = false;

  constructor(readonly store: FusedKvStore) {}

  get batch(): number {
    return this.store.batch;
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    this.store.unref();
  }

  /** Whether the fused step can append to this cache of `length` positions (held, and nothing after it). */
  appendable(length: number): boolean {
    return !this.released && this.store.length === length;
  }

  /**
   * Its first `length` positions as tensors [batch, length, dModel] per layer (for the tfjs path, which a
   * step the fused decoder does not take runs on).
   */
  toTensors(length: number, layers: number, dModel: number): { keys: tf.Tensor3D[]; values: tf.Tensor3D[] } {
    if (this.released) throw new Error('fused KV cache: decoding from a cache that was disposed');
    const addon = this.store.addon;
    const size = this.batch * length * dModel;
    const buffer = new ArrayBuffer(4 * size * 2 * layers);
    const offsets = Float64Array.from({ length: 2 * layers }, (_, i) => 4 * size * i);
    addon.kvExport(this.store.handle, buffer, offsets, length);
    const tensor = (i: number) =>
      tf.tensor3d(new Float32Array(buffer, 4 * size * i, size), [this.batch, length, dModel]);
    return {
      keys: Array.from({ length: layers }, (_, l) => tensor(2 * l)),
      values: Array.from({ length: layers }, (_, l) => tensor(2 * l + 1)),
    };
  }
}

/** The cache a decoding step reads: tensors [batch, length, dModel] per layer, or the fused decoder's. */
export interface DecodeCache {
  keys: tf.Tensor3D[];
  values: tf.Tensor3D[];
  length: number;
  fused?: FusedKv;
}

let enabled = true;

/**
 * Turns the fused decoder on or off in this thread (on by default). Its logits equal the tfjs kernels'
 * bit for bit, so this changes speed only; bench:policy compares the two.
 */
export function setFusedDecoding(on: boolean): void {
  enabled = on;
}

/** Whether decoding steps of few rows take the fused decoder now (wasm-openblas active, and enabled). */
export function fusedDecodingActive(): boolean {
  return enabled && wasmBlasActive() && !tf.engine().isTapeOn();
}

interface FusedStepAttrs {
  model: FusedDecodeModel;
  table: Float64Array;
  store: FusedKvStore;
  cacheLength: number;
  n: number;
}

/** The kernel: logits [batch, vocab] from ids and positions [batch, n] and the mask [batch, 1, n, S]. */
function fusedDecodeKernel(args: {
  inputs: tf.NamedTensorInfoMap;
  backend: unknown;
  attrs?: unknown;
}): tf.TensorInfo {
  const addon = blasAddon();
  if (!addon) throw new Error(`${FUSED_DECODE_KERNEL}: the OpenBLAS kernels are not enabled`);
  const backend = args.backend as WasmMemoryBackend;
  const { ids, positions, mask } = args.inputs as Record<string, tf.TensorInfo>;
  const { model, table, store, cacheLength, n } = args.attrs as FusedStepAttrs;
  const out = backend.makeOutput([ids.shape[0], model.dims[0]], 'float32');
  // Views of the heap, taken after makeOutput: growing the wasm memory replaces its ArrayBuffer.
  const view = (t: tf.TensorInfo) => backend.typedArrayFromHeap(t);
  // prettier-ignore
  addon.decodeStep(backend.wasm.HEAPU8.buffer as ArrayBuffer, table, model.dims, model.loraScale, store.handle,
    cacheLength, view(ids) as Int32Array, view(positions) as Int32Array, view(mask) as Float32Array, n,
    view(out) as Float32Array);
  return out;
}

let registered = false;

export function registerFusedDecodeKernel(): void {
  if (registered) return;
  tf.registerKernel({ kernelName: FUSED_DECODE_KERNEL, backendName: 'wasm', kernelFunc: fusedDecodeKernel });
  registered = true;
}

/** A step the fused decoder takes: the addon, the cache it appends to, the weights' offsets. */
interface OpenStep {
  addon: BlasAddon;
  backend: WasmMemoryBackend;
  store: FusedKvStore;
  table: Float64Array;
  /** The reference held while a cache of tensors is being moved into a new store (released after the step). */
  created: FusedKv | null;
}

/**
 * The fused decoder's state for a step of n tokens for `batch` sequences after `cache`, or null when it does
 * not take it (not active, a cache extended since, weights not on the heap). A cache of tensors is copied
 * into the addon once, at its first fused step.
 */
function openStep(model: FusedDecodeModel, batch: number, cache: DecodeCache): OpenStep | null {
  const addon = blasAddon();
  if (!addon || !fusedDecodingActive()) return null;
  const [, dModel, layers, heads] = model.dims;
  if (cache.fused && (!cache.fused.appendable(cache.length) || cache.fused.batch !== batch)) return null;
  const backend = tf.backend() as unknown as WasmMemoryBackend;
  const table = model.weights.resolve(backend);
  if (!table) return null;
  if (cache.fused) return { addon, backend, store: cache.fused.store, table, created: null };
  if (
    cache.length > 0 &&
    [...cache.keys, ...cache.values].some(
      (t) => t.isDisposed || t.dtype !== 'float32' || t.shape.join() !== [batch, cache.length, dModel].join(),
    )
  )
    return null;
  const store = new FusedKvStore(
    addon,
    addon.kvCreate(batch, layers, dModel, heads, FUSED_KV_CHUNK_POSITIONS),
    batch,
  );
  const created = store.ref();
  if (cache.length > 0) {
    const offsets = new Float64Array(2 * layers);
    for (let l = 0; l < layers; l++) {
      offsets[2 * l] = backend.dataIdMap.get(cache.keys[l].dataId).memoryOffset;
      offsets[2 * l + 1] = backend.dataIdMap.get(cache.values[l].dataId).memoryOffset;
    }
    try {
      addon.kvImport(store.handle, backend.wasm.HEAPU8.buffer as ArrayBuffer, offsets, cache.length);
    } catch (error) {
      created.release();
      throw error;
    }
  }
  store.length = cache.length;
  return { addon, backend, store, table, created };
}

/**
 * One decoding step on the fused decoder, from tensors (TransformerPolicy.decode): logits [batch, vocab] of
 * the last of the n new tokens and the cache extended by them, or null when it does not take this step
 * (the caller then runs the tfjs kernels, which give the same values).
 */
export function fusedDecodeStep(
  model: FusedDecodeModel,
  input: { ids: tf.Tensor2D; positions: tf.Tensor2D; mask: tf.Tensor4D },
  cache: DecodeCache,
): { logits: tf.Tensor2D; fused: FusedKv } | null {
  const [batch, n] = input.ids.shape;
  if (
    input.mask.dtype !== 'float32' ||
    input.mask.shape.join() !== [batch, 1, n, cache.length + n].join() ||
    input.positions.shape.join() !== [batch, n].join()
  )
    return null;
  const step = openStep(model, batch, cache);
  if (!step) return null;
  try {
    const int32 = (t: tf.Tensor2D) => (t.dtype === 'int32' ? t : tf.cast(t, 'int32'));
    const [ids, positions] = [int32(input.ids), int32(input.positions)];
    const attrs: FusedStepAttrs = {
      model,
      table: step.table,
      store: step.store,
      cacheLength: cache.length,
      n,
    };
    const logits = tf
      .engine()
      .runKernel(
        FUSED_DECODE_KERNEL,
        { ids, positions, mask: input.mask },
        attrs as unknown as tf.NamedAttrMap,
      ) as tf.Tensor2D;
    if (ids !== input.ids) ids.dispose();
    if (positions !== input.positions) positions.dispose();
    step.store.length = cache.length + n;
    return { logits, fused: step.store.ref() };
  } finally {
    step.created?.release();
  }
}

/** One step's inputs as arrays: ids and positions [batch, n], the additive mask [batch, 1, n, cached + n]. */
export interface FusedStepArrays {
  ids: Int32Array;
  positions: Int32Array;
  mask: Float32Array;
  batch: number;
  n: number;
}

/**
 * fusedDecodeStep on arrays (the sampler's path: no tensors are made for the inputs or the logits), logits
 * [batch * vocab]; null when the decoder does not take this step.
 */
export function fusedDecodeArrays(
  model: FusedDecodeModel,
  input: FusedStepArrays,
  cache: DecodeCache,
): { logits: Float32Array; fused: FusedKv } | null {
  const { batch, n } = input;
  if (
    input.ids.length !== batch * n ||
    input.positions.length !== batch * n ||
    input.mask.length !== batch * n * (cache.length + n)
  )
    return null;
  const step = openStep(model, batch, cache);
  if (!step) return null;
  try {
    const logits = new Float32Array(batch * model.dims[0]);
    // prettier-ignore
    step.addon.decodeStep(step.backend.wasm.HEAPU8.buffer as ArrayBuffer, step.table, model.dims, model.loraScale,
      step.store.handle, cache.length, input.ids, input.positions, input.mask, n, logits);
    step.store.length = cache.length + n;
    return { logits, fused: step.store.ref() };
  } finally {
    step.created?.release();
  }
}
