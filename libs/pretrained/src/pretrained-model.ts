import * as tf from '@tensorflow/tfjs-core';
import {
  adapterWeights,
  causalMask,
  causalSelfAttention,
  matmul2d,
  policyForwardFromLogits,
  Rng,
  type AdapterSwitch,
  type DecodeInput,
  type ForwardOptions,
  type KvCache,
  type PolicyForward,
  type TrainablePolicy,
} from '@recon/policy';
import type { ModelSpec } from './hf-config';
import { frozenHead, frozenLinear, rmsNorm, swiglu } from './frozen-ops';
import { inverseFrequencies } from './rope';
import { type LoraSettings, type Projection, PROJECTIONS } from './lora-settings';

/** Input and output widths of each projection, from the spec. */
export function projectionShape(spec: ModelSpec, projection: Projection): [number, number] {
  const q = spec.heads * spec.headDim;
  const kv = spec.kvHeads * spec.headDim;
  const shapes: Record<Projection, [number, number]> = {
    q_proj: [spec.hidden, q],
    k_proj: [spec.hidden, kv],
    v_proj: [spec.hidden, kv],
    o_proj: [q, spec.hidden],
    gate_proj: [spec.hidden, spec.intermediate],
    up_proj: [spec.hidden, spec.intermediate],
    down_proj: [spec.intermediate, spec.hidden],
  };
  return shapes[projection];
}

/** The HF module path of a projection in layer i (what PEFT's names and our weight names start with). */
export function projectionPath(layer: number, projection: Projection): string {
  const block = PROJECTIONS[projection].block === 'attn' ? 'self_attn' : 'mlp';
  return `model.layers.${layer}.${block}.${projection}`;
}

export function hasBias(spec: ModelSpec, projection: Projection): boolean {
  if (projection === 'o_proj') return spec.biases.o;
  return PROJECTIONS[projection].block === 'attn' ? spec.biases.qkv : spec.biases.mlp;
}

/**
 * A Llama/Qwen2 decoder (RMSNorm, rotary positions, grouped-query attention, SwiGLU MLP) on frozen
 * float32 base weights, with optional LoRA adapters on chosen projections: the trainable part.
 *
 * Base weights keep their Hugging Face names; projection weights are stored transposed ([in, out]) so
 * the forward matmuls are plain ones. Adapters are `<module>.lora_A` [in, r] and `<module>.lora_B` [r, out].
 */
export class PretrainedCausalLM implements TrainablePolicy, AdapterSwitch {
  /** What the sampler reads: the longest sequence (prompt + completion) the model runs on. */
  readonly config: { context: number };
  private readonly base: ReadonlyMap<string, tf.Tensor>;
  private readonly adapters = new Map<string, tf.Variable>();
  private readonly invFreq: tf.Tensor1D;
  private adaptersOn = true;

  /**
   * Takes ownership of `base` (HF names, projections transposed, see the class comment). LoRA A starts
   * uniform in ±1/sqrt(in) from `seed` (PEFT's kaiming-uniform bound), B at zero, so training starts
   * from the base model.
   */
  constructor(
    readonly spec: ModelSpec,
    base: ReadonlyMap<string, tf.Tensor>,
    readonly lora?: LoraSettings,
    seed = 0,
    context = spec.maxPositions,
  ) {
    this.config = { context };
    this.base = base;
    this.invFreq = tf.tensor1d(inverseFrequencies(spec));
    if (lora) {
      const rng = new Rng(seed);
      for (let layer = 0; layer < spec.layers; layer++)
        for (const projection of lora.targets) {
          const [din, dout] = projectionShape(spec, projection);
          const name = projectionPath(layer, projection);
          const bound = 1 / Math.sqrt(din);
          const a = Float32Array.from({ length: din * lora.rank }, () => (rng.next() * 2 - 1) * bound);
          this.addAdapter(`${name}.lora_A`, tf.tensor2d(a, [din, lora.rank]));
          this.addAdapter(`${name}.lora_B`, tf.zeros([lora.rank, dout]));
        }
    }
  }

  private addAdapter(name: string, initial: tf.Tensor): void {
    this.adapters.set(name, tf.variable(initial, true));
    initial.dispose(); // the variable keeps its own reference to the data
  }

  private w(name: string): tf.Tensor {
    const weight = this.base.get(name);
    if (!weight) throw new Error(`PretrainedCausalLM: no base weight named ${name}`);
    return weight;
  }

  private project(x: tf.Tensor2D, layer: number, projection: Projection): tf.Tensor2D {
    const name = projectionPath(layer, projection);
    const bias = hasBias(this.spec, projection) ? (this.w(`${name}.bias`) as tf.Tensor1D) : undefined;
    let out = frozenLinear(x, this.w(`${name}.weight`) as tf.Tensor2D, bias);
    const a = this.adaptersOn ? this.adapters.get(`${name}.lora_A`) : undefined;
    if (a && this.lora) {
      const b = this.adapters.get(`${name}.lora_B`)!;
      const delta = matmul2d(matmul2d(x, a as tf.Tensor2D), b as tf.Tensor2D);
      out = tf.add(out, tf.mul(delta, this.lora.alpha / this.lora.rank)) as tf.Tensor2D;
    }
    return out;
  }

  /** Rotates x [N, heads*headDim] by the angles of each row's position [N] (HF's rotate_half layout). */
  private rotate(x: tf.Tensor2D, positions: tf.Tensor1D, heads: number): tf.Tensor2D {
    return tf.tidy(() => {
      const d = this.spec.headDim;
      const n = x.shape[0];
      const angles = tf.mul(
        tf.reshape(tf.cast(positions, 'float32'), [n, 1]),
        tf.reshape(this.invFreq, [1, d / 2]),
      );
      const full = tf.reshape(tf.concat([angles, angles], 1), [n, 1, d]);
      const [cos, sin] = [tf.cos(full), tf.sin(full)];
      const x3 = tf.reshape(x, [n, heads, d]);
      const [x1, x2] = tf.split(x3, 2, 2);
      const rotated = tf.concat([tf.neg(x2), x1], 2);
      return tf.reshape(tf.add(tf.mul(x3, cos), tf.mul(rotated, sin)), [n, heads * d]) as tf.Tensor2D;
    });
  }

  /**
   * Repeats each KV head's columns for its query-head group: [N, kvHeads*d] -> [N, heads*d]. By concatenation
   * (row copies) rather than tf.tile, which computes every element's source index (27 ms a call at the
   * bench model's size on wasm); under a tape with tf.tile's gradient, summed in its order (the group's
   * column blocks added to zeros one by one), so gradients are the same bit for bit, and nothing is saved.
   */
  private expandKv(x: tf.Tensor2D): tf.Tensor2D {
    const { heads, kvHeads, headDim } = this.spec;
    if (heads === kvHeads) return x;
    const n = x.shape[0];
    const group = heads / kvHeads;
    const expand = (kv: tf.Tensor): tf.Tensor2D =>
      tf.tidy(() => {
        const grouped = tf.reshape(kv, [n, kvHeads, 1, headDim]);
        const copies = Array.from({ length: group }, () => grouped);
        return tf.reshape(tf.concat(copies, 2), [n, heads * headDim]) as tf.Tensor2D;
      });
    if (!tf.engine().isTapeOn()) return expand(x);
    const op = tf.customGrad(((kv: tf.Tensor) => ({
      value: expand(kv),
      gradFunc: (dy: tf.Tensor) =>
        tf.tidy(() => {
          const blocks = tf.reshape(dy, [n, kvHeads, group, headDim]);
          let grad: tf.Tensor = tf.zeros([n, kvHeads, 1, headDim]);
          for (let g = 0; g < group; g++)
            grad = tf.add(grad, tf.slice(blocks, [0, 0, g, 0], [n, kvHeads, 1, headDim]));
          return tf.reshape(grad, [n, kvHeads * headDim]);
        }),
    })) as unknown as Parameters<typeof tf.customGrad>[0]);
    return op(x) as tf.Tensor2D;
  }

  /**
   * Attention of n new queries per row [B*n, H*d] over S cached + new keys/values [B, S, KV*d] with an
   * additive mask [B, 1, n, S]. Query heads are grouped by their KV head, so the cache is never expanded.
   */
  private attendCached(q: tf.Tensor2D, keys: tf.Tensor3D, values: tf.Tensor3D, mask: tf.Tensor): tf.Tensor2D {
    const { heads, kvHeads, headDim: d } = this.spec;
    const [batch, s] = keys.shape;
    const n = q.shape[0] / batch;
    const group = heads / kvHeads;
    return tf.tidy(() => {
      // [B, n, KV, G, d] -> [B, KV, G, n, d] -> [B*KV, G*n, d]
      const qs = tf.reshape(tf.transpose(tf.reshape(q, [batch, n, kvHeads, group, d]), [0, 2, 3, 1, 4]), [
        batch * kvHeads,
        group * n,
        d,
      ]);
      const split = (x: tf.Tensor3D) =>
        tf.reshape(tf.transpose(tf.reshape(x, [batch, s, kvHeads, d]), [0, 2, 1, 3]), [
          batch * kvHeads,
          s,
          d,
        ]);
      const scores = tf.mul(tf.matMul(qs, split(keys), false, true), 1 / Math.sqrt(d));
      const masked = tf.add(
        tf.reshape(scores, [batch, kvHeads, group, n, s]),
        tf.reshape(mask, [batch, 1, 1, n, s]),
      );
      const probs = tf.softmax(masked, -1);
      const out = tf.matMul(tf.reshape(probs, [batch * kvHeads, group * n, s]) as tf.Tensor3D, split(values));
      // [B, KV, G, n, d] -> [B, n, KV, G, d] -> [B*n, H*d]
      return tf.reshape(tf.transpose(tf.reshape(out, [batch, kvHeads, group, n, d]), [0, 3, 1, 2, 4]), [
        batch * n,
        heads * d,
      ]) as tf.Tensor2D;
    });
  }

  /**
   * The decoder layers. Without a gradient tape (generation, evaluation) each layer runs in its own tidy, so
   * a long prompt holds one layer's intermediates at a time instead of every layer's until the pass ends.
   */
  private layersForward(
    x: tf.Tensor2D,
    positions: tf.Tensor1D,
    batch: number,
    n: number,
    cached?: { cache: KvCache; mask: tf.Tensor },
  ): { hidden: tf.Tensor2D; cache?: KvCache } {
    const { spec } = this;
    const next: KvCache | undefined = cached
      ? { keys: [], values: [], length: cached.cache.length + n }
      : undefined;
    const recording = tf.engine().isTapeOn();
    for (let i = 0; i < spec.layers; i++) {
      const input = x;
      const layer = () => this.decoderLayer(i, input, positions, batch, n, cached);
      const [output, keys, values] = recording ? layer() : tf.tidy(layer);
      if (!recording) input.dispose();
      x = output as tf.Tensor2D;
      if (next) {
        next.keys.push(keys as tf.Tensor3D);
        next.values.push(values as tf.Tensor3D);
      }
    }
    return { hidden: rmsNorm(x, this.w('model.norm.weight') as tf.Tensor1D, spec.rmsEps), cache: next };
  }

  /** Layer i: [its output] or, decoding through the cache, [output, keys, values] (cache plus the new tokens). */
  private decoderLayer(
    i: number,
    x: tf.Tensor2D,
    positions: tf.Tensor1D,
    batch: number,
    n: number,
    cached?: { cache: KvCache; mask: tf.Tensor },
  ): tf.Tensor[] {
    const { spec } = this;
    const kvWidth = spec.kvHeads * spec.headDim;
    const p = `model.layers.${i}`;
    const h = rmsNorm(x, this.w(`${p}.input_layernorm.weight`) as tf.Tensor1D, spec.rmsEps);
    const q = this.rotate(this.project(h, i, 'q_proj'), positions, spec.heads);
    const k = this.rotate(this.project(h, i, 'k_proj'), positions, spec.kvHeads);
    const v = this.project(h, i, 'v_proj');
    let attended: tf.Tensor2D;
    let kv: tf.Tensor[] = [];
    if (cached) {
      const k3 = tf.reshape(k, [batch, n, kvWidth]) as tf.Tensor3D;
      const v3 = tf.reshape(v, [batch, n, kvWidth]) as tf.Tensor3D;
      const keys = cached.cache.length > 0 ? tf.concat([cached.cache.keys[i], k3], 1) : k3;
      const values = cached.cache.length > 0 ? tf.concat([cached.cache.values[i], v3], 1) : v3;
      kv = [keys, values];
      attended = this.attendCached(q, keys, values, cached.mask);
    } else {
      attended = causalSelfAttention(q, this.expandKv(k), this.expandKv(v), batch, spec.heads);
    }
    x = tf.add(x, this.project(attended, i, 'o_proj')) as tf.Tensor2D;
    const h2 = rmsNorm(x, this.w(`${p}.post_attention_layernorm.weight`) as tf.Tensor1D, spec.rmsEps);
    const gated = swiglu(this.project(h2, i, 'gate_proj'), this.project(h2, i, 'up_proj'));
    return [tf.add(x, this.project(gated, i, 'down_proj')), ...kv];
  }

  private head(hidden: tf.Tensor2D): tf.Tensor2D {
    const table = this.spec.tieEmbeddings ? 'model.embed_tokens.weight' : 'lm_head.weight';
    return frozenHead(hidden, this.w(table) as tf.Tensor2D);
  }

  /**
   * Token embeddings. Under a gradient tape the gather is wrapped as a custom gradient saving nothing: taped
   * as a plain gather, tfjs would keep the whole table for its gradient (a copy of it on wasm, 545 MB for
   * Qwen2.5-0.5B), though neither the frozen table nor the ids get one.
   */
  private embed(ids: tf.Tensor1D): tf.Tensor2D {
    const table = this.w('model.embed_tokens.weight');
    const gather = (i: tf.Tensor) => tf.gather(table, tf.cast(i, 'int32')) as tf.Tensor2D;
    if (!tf.engine().isTapeOn()) return gather(ids);
    const op = tf.customGrad(((i: tf.Tensor) => ({
      value: gather(i),
      gradFunc: () => tf.zeros(i.shape),
    })) as unknown as Parameters<typeof tf.customGrad>[0]);
    return op(ids) as tf.Tensor2D;
  }

  /** Next-token logits [B,T,V] for token ids [B,T] at positions 0..T-1 (right padding only). */
  logits(inputIds: tf.Tensor2D): tf.Tensor3D {
    const [batch, t] = inputIds.shape;
    if (t > this.config.context)
      throw new Error(`PretrainedCausalLM: sequence length ${t} exceeds the context ${this.config.context}`);
    const x = this.embed(tf.reshape(inputIds, [-1]) as tf.Tensor1D);
    const positions = tf.tile(tf.range(0, t, 1, 'int32'), [batch]) as tf.Tensor1D;
    const { hidden } = this.layersForward(x, positions, batch, t);
    return tf.reshape(this.head(hidden), [batch, t, this.spec.vocabSize]) as tf.Tensor3D;
  }

  sequenceLogProbs(inputIds: tf.Tensor2D, targetIds: tf.Tensor2D, options?: ForwardOptions): PolicyForward {
    return policyForwardFromLogits(this.logits(inputIds), targetIds, options);
  }

  emptyCache(): KvCache {
    return { keys: [], values: [], length: 0 };
  }

  /**
   * Incremental decoding, as TransformerPolicy.decode: logits [B, V] of the last of the n new tokens and
   * the extended cache (keys/values [B, S, kvHeads*headDim] per layer). The caller owns both.
   */
  decode(input: DecodeInput, cache: KvCache): { logits: tf.Tensor2D; cache: KvCache } {
    const [batch, n] = input.ids.shape;
    if (cache.length + n > this.config.context)
      throw new Error(`PretrainedCausalLM: decoding past the context of ${this.config.context} tokens`);
    let nextCache: KvCache | undefined;
    const logits = tf.tidy(() => {
      const x = this.embed(tf.reshape(input.ids, [-1]) as tf.Tensor1D);
      const positions = tf.reshape(tf.cast(input.positions, 'int32'), [-1]) as tf.Tensor1D;
      const result = this.layersForward(x, positions, batch, n, { cache, mask: input.mask });
      nextCache = result.cache!;
      for (const t of [...nextCache.keys, ...nextCache.values]) tf.keep(t);
      const last =
        n === 1
          ? result.hidden
          : (tf.reshape(tf.slice(tf.reshape(result.hidden, [batch, n, -1]), [0, n - 1, 0], [batch, 1, -1]), [
              batch,
              -1,
            ]) as tf.Tensor2D);
      return this.head(last);
    });
    return { logits, cache: nextCache! };
  }

  /** Greedy continuation of one prompt through the KV cache, stopping at an EOS id or maxNewTokens. */
  greedy(
    promptIds: readonly number[],
    maxNewTokens: number,
    stopIds: readonly number[] = this.spec.eosTokenIds,
  ): number[] {
    const out: number[] = [];
    let cache = this.emptyCache();
    let ids = [...promptIds];
    try {
      while (out.length < maxNewTokens) {
        const s = cache.length;
        const input: DecodeInput = {
          ids: tf.tensor2d([ids], [1, ids.length], 'int32'),
          positions: tf.tensor2d([ids.map((_, i) => s + i)], [1, ids.length], 'int32'),
          mask: tf.tensor4d(causalMask(ids.length, s + ids.length).dataSync(), [
            1,
            1,
            ids.length,
            s + ids.length,
          ]),
        };
        const step = this.decode(input, cache);
        tf.dispose([input.ids, input.positions, input.mask]);
        disposeKv(cache);
        cache = step.cache;
        const argmax = tf.argMax(step.logits, -1);
        const token = argmax.dataSync()[0];
        argmax.dispose();
        step.logits.dispose();
        out.push(token);
        if (stopIds.includes(token)) break;
        ids = [token];
      }
    } finally {
      disposeKv(cache);
    }
    return out;
  }

  setAdaptersEnabled(enabled: boolean): void {
    this.adaptersOn = enabled;
  }

  adaptersEnabled(): boolean {
    return this.adaptersOn;
  }

  trainableWeights(): ReadonlyMap<string, tf.Variable> {
    if (!this.lora) throw new Error('PretrainedCausalLM: training a pretrained model needs LoRA adapters');
    return adapterWeights(this.adapters);
  }

  /** The adapters: all a checkpoint stores, the base being named by its content hash. */
  namedWeights(): ReadonlyMap<string, tf.Variable> {
    return this.adapters;
  }

  /** A base weight as loaded (projections transposed to [in, out]). */
  baseWeight(name: string): tf.Tensor {
    return this.w(name);
  }

  dispose(): void {
    for (const t of [...this.base.values(), ...this.adapters.values(), this.invFreq]) t.dispose();
  }
}

function disposeKv(cache: KvCache): void {
  for (const t of [...cache.keys, ...cache.values]) t.dispose();
}
