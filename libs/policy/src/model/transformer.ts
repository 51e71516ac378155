import * as tf from '@tensorflow/tfjs-core';
import { wasmBlasActive } from '../backend/wasm-blas-matmul-kernel';
import { AdapterSwitch, adapterWeights } from '../training/lora';
import { ForwardOptions, PolicyForward, policyForwardFromLogits, TrainablePolicy } from '../training/policy';
import { Rng } from '../training/rng';
import { LoraTarget, parseTransformerConfig, TransformerConfig, TransformerConfigInput } from './config';
import { DECODE_ATTENTION_KERNEL } from '../backend/wasm-decode-attention-kernel';
import {
  FUSED_GLOBAL_WEIGHTS,
  FUSED_LAYER_WEIGHTS,
  fusedDecodeArrays,
  FusedDecodeModel,
  fusedDecodeStep,
  FusedKv,
  FusedStepArrays,
  FusedWeightTable,
} from '../backend/wasm-fused-decode';
import { normalValues, uniformValues } from './init';
import { causalMask, causalSelfAttention } from './causal-attention';
import { DISPATCH_BOUND_ROWS, embedRows, gelu, layerNorm, linear, matmul2d } from './ops';

/**
 * Keys and values of every layer for the tokens seen so far: [B, S, dModel] each, or (on wasm-openblas's
 * fused decoder) held by the addon, `keys` and `values` then empty.
 */
export interface KvCache {
  keys: tf.Tensor3D[];
  values: tf.Tensor3D[];
  /** Cached sequence length S. */
  length: number;
  /** The fused decoder's cache (backend/wasm-fused-decode), when it took the step that made this one. */
  fused?: FusedKv;
}

export interface DecodeInput {
  /** Token ids [B, n]. */
  ids: tf.Tensor2D;
  /** Position id of each token [B, n] (left-padded prompts start at 0 at their first real token). */
  positions: tf.Tensor2D;
  /** Additive attention mask [B, 1, n, S + n]: 0 where a query may attend, -1e9 elsewhere. */
  mask: tf.Tensor4D;
}

const PROJECTIONS: Record<LoraTarget, { block: 'attn' | 'mlp'; inKey: 'd' | 'h'; outKey: 'd' | 'h' }> = {
  q: { block: 'attn', inKey: 'd', outKey: 'd' },
  k: { block: 'attn', inKey: 'd', outKey: 'd' },
  v: { block: 'attn', inKey: 'd', outKey: 'd' },
  o: { block: 'attn', inKey: 'd', outKey: 'd' },
  up: { block: 'mlp', inKey: 'd', outKey: 'h' },
  down: { block: 'mlp', inKey: 'h', outKey: 'd' },
};

/**
 * Decoder-only transformer (GPT-2 layout: pre-norm, causal multi-head attention, GELU MLP, learned
 * positions, optional tied embeddings, optional LoRA on chosen projections), initialised from its seed.
 * Weight names are stable; a checkpoint stores `namedWeights()`.
 */
export class TransformerPolicy implements TrainablePolicy, AdapterSwitch {
  readonly config: TransformerConfig;
  private readonly weights = new Map<string, tf.Variable>();
  private adapters = true;
  /** The fused decoder's view of the weights, with adapters applied and not. */
  private readonly fusedModels = new Map<boolean, FusedDecodeModel>();

  constructor(config: TransformerConfigInput) {
    this.config = parseTransformerConfig(config);
    const c = this.config;
    const rng = new Rng(c.seed);
    const d = c.dModel;
    const hidden = c.mlpRatio * d;
    const residualStd = 0.02 / Math.sqrt(2 * c.layers);
    const add = (name: string, shape: number[], values: Float32Array, trainable = !c.lora) => {
      const initial = tf.tensor(values, shape);
      this.weights.set(name, tf.variable(initial, trainable));
      initial.dispose(); // the variable keeps its own reference to the data
    };
    const normal = (shape: number[], std: number) =>
      normalValues(
        rng,
        shape.reduce((a, b) => a * b, 1),
        std,
      );
    const fill = (n: number, value: number) => new Float32Array(n).fill(value);
    add('tok_embed.weight', [c.vocabSize, d], normal([c.vocabSize, d], 0.02));
    add('pos_embed.weight', [c.context, d], normal([c.context, d], 0.01));
    for (let i = 0; i < c.layers; i++) {
      const p = `layers.${i}`;
      add(`${p}.ln1.gain`, [d], fill(d, 1));
      add(`${p}.ln1.bias`, [d], fill(d, 0));
      for (const target of ['q', 'k', 'v', 'o'] as const) {
        add(`${p}.attn.${target}.weight`, [d, d], normal([d, d], target === 'o' ? residualStd : 0.02));
        add(`${p}.attn.${target}.bias`, [d], fill(d, 0));
      }
      add(`${p}.ln2.gain`, [d], fill(d, 1));
      add(`${p}.ln2.bias`, [d], fill(d, 0));
      add(`${p}.mlp.up.weight`, [d, hidden], normal([d, hidden], 0.02));
      add(`${p}.mlp.up.bias`, [hidden], fill(hidden, 0));
      add(`${p}.mlp.down.weight`, [hidden, d], normal([hidden, d], residualStd));
      add(`${p}.mlp.down.bias`, [d], fill(d, 0));
    }
    add('ln_f.gain', [d], fill(d, 1));
    add('ln_f.bias', [d], fill(d, 0));
    if (!c.tieEmbeddings) add('lm_head.weight', [d, c.vocabSize], normal([d, c.vocabSize], 0.02));
    if (c.lora) {
      const dims = { d, h: hidden };
      for (let i = 0; i < c.layers; i++)
        for (const target of c.lora.targets) {
          const { block, inKey, outKey } = PROJECTIONS[target];
          const name = `layers.${i}.${block}.${target}`;
          const [din, dout] = [dims[inKey], dims[outKey]];
          // As PEFT: A uniform (kaiming-like), B zero, so the adapted model starts equal to the base.
          add(
            `${name}.lora_a`,
            [din, c.lora.rank],
            uniformValues(rng, din * c.lora.rank, 1 / Math.sqrt(din)),
            true,
          );
          add(`${name}.lora_b`, [c.lora.rank, dout], fill(c.lora.rank * dout, 0), true);
        }
    }
  }

  private w(name: string): tf.Variable {
    const weight = this.weights.get(name);
    if (!weight) throw new Error(`TransformerPolicy: no weight named ${name}`);
    return weight;
  }

  private project(x: tf.Tensor2D, layer: number, block: 'attn' | 'mlp', target: LoraTarget): tf.Tensor2D {
    const name = `layers.${layer}.${block}.${target}`;
    let out = linear(x, this.w(`${name}.weight`) as tf.Tensor2D, this.w(`${name}.bias`) as tf.Tensor1D);
    const lora = this.config.lora;
    if (lora && this.adapters && lora.targets.includes(target)) {
      const delta = matmul2d(
        matmul2d(x, this.w(`${name}.lora_a`) as tf.Tensor2D),
        this.w(`${name}.lora_b`) as tf.Tensor2D,
      );
      out = tf.add(out, tf.mul(delta, lora.alpha / lora.rank)) as tf.Tensor2D;
    }
    return out;
  }

  /** Multi-head attention of queries [B*n, D] over keys/values [B*S, D] with an additive mask broadcast to [B,H,n,S]. */
  private attend(
    q: tf.Tensor2D,
    k: tf.Tensor2D,
    v: tf.Tensor2D,
    batch: number,
    n: number,
    s: number,
    mask: tf.Tensor,
  ): tf.Tensor2D {
    const { heads, dModel } = this.config;
    const fullMask = mask.shape.join() === [batch, 1, n, s].join();
    if (fullMask && tf.getKernel(DECODE_ATTENTION_KERNEL, tf.getBackend())) {
      const keys = tf.reshape(k, [batch, s, dModel]);
      const values = tf.reshape(v, [batch, s, dModel]);
      return tf
        .engine()
        .runKernel(DECODE_ATTENTION_KERNEL, { q, keys, values, mask }, { heads }) as tf.Tensor2D;
    }
    const dh = dModel / heads;
    const split = (x: tf.Tensor2D, len: number) =>
      tf.reshape(tf.transpose(tf.reshape(x, [batch, len, heads, dh]), [0, 2, 1, 3]), [
        batch * heads,
        len,
        dh,
      ]) as tf.Tensor3D;
    const scores = tf.mul(tf.matMul(split(q, n), split(k, s), false, true), 1 / Math.sqrt(dh));
    const probs = tf.softmax(tf.add(tf.reshape(scores, [batch, heads, n, s]), mask), -1);
    const out = tf.matMul(tf.reshape(probs, [batch * heads, n, s]) as tf.Tensor3D, split(v, s));
    return tf.reshape(tf.transpose(tf.reshape(out, [batch, heads, n, dh]), [0, 2, 1, 3]), [
      batch * n,
      dModel,
    ]) as tf.Tensor2D;
  }

  /**
   * Runs the layers on hidden states x [B*n, D]. With a cache, keys/values of earlier tokens are
   * prepended and the cache returned holds the new ones too.
   */
  private layersForward(
    x: tf.Tensor2D,
    batch: number,
    n: number,
    mask: tf.Tensor,
    cache?: KvCache,
  ): { hidden: tf.Tensor2D; cache?: KvCache } {
    const d = this.config.dModel;
    const next: KvCache | undefined = cache ? { keys: [], values: [], length: cache.length + n } : undefined;
    for (let i = 0; i < this.config.layers; i++) {
      const p = `layers.${i}`;
      const h = layerNorm(x, this.w(`${p}.ln1.gain`) as tf.Tensor1D, this.w(`${p}.ln1.bias`) as tf.Tensor1D);
      const q = this.project(h, i, 'attn', 'q');
      let k = this.project(h, i, 'attn', 'k');
      let v = this.project(h, i, 'attn', 'v');
      let s = n;
      if (cache && next) {
        const k3 = tf.reshape(k, [batch, n, d]) as tf.Tensor3D;
        const v3 = tf.reshape(v, [batch, n, d]) as tf.Tensor3D;
        const keys = cache.length > 0 ? tf.concat([cache.keys[i], k3], 1) : k3;
        const values = cache.length > 0 ? tf.concat([cache.values[i], v3], 1) : v3;
        next.keys.push(keys);
        next.values.push(values);
        s = cache.length + n;
        k = tf.reshape(keys, [batch * s, d]);
        v = tf.reshape(values, [batch * s, d]);
      }
      // Training (no cache) takes the per-head kernel with its recomputing backward; decoding (n new
      // queries over a cache, tiny matmuls) one attention kernel on wasm, else the batched path.
      const heads = cache
        ? this.attend(q, k, v, batch, n, s, mask)
        : causalSelfAttention(q, k, v, batch, this.config.heads);
      const attended = this.project(heads, i, 'attn', 'o');
      x = tf.add(x, attended) as tf.Tensor2D;
      const h2 = layerNorm(x, this.w(`${p}.ln2.gain`) as tf.Tensor1D, this.w(`${p}.ln2.bias`) as tf.Tensor1D);
      const up = gelu(this.project(h2, i, 'mlp', 'up')) as tf.Tensor2D;
      x = tf.add(x, this.project(up, i, 'mlp', 'down')) as tf.Tensor2D;
    }
    return {
      hidden: layerNorm(x, this.w('ln_f.gain') as tf.Tensor1D, this.w('ln_f.bias') as tf.Tensor1D),
      cache: next,
    };
  }

  private head(hidden: tf.Tensor2D): tf.Tensor2D {
    // On OpenBLAS the tied head reads the embedding transposed in place (autodiff's products stay on it).
    if (this.config.tieEmbeddings && wasmBlasActive())
      return tf.matMul(hidden, this.w('tok_embed.weight'), false, true);
    const weight = this.config.tieEmbeddings
      ? (tf.transpose(this.w('tok_embed.weight')) as tf.Tensor2D)
      : (this.w('lm_head.weight') as tf.Tensor2D);
    return matmul2d(hidden, weight);
  }

  /** Next-token logits [B,T,V] for token ids [B,T] starting at position 0. */
  logits(inputIds: tf.Tensor2D): tf.Tensor3D {
    const [batch, t] = inputIds.shape;
    if (t > this.config.context)
      throw new Error(`TransformerPolicy: sequence length ${t} exceeds the context ${this.config.context}`);
    const { dModel, vocabSize } = this.config;
    const tokens = embedRows(
      this.w('tok_embed.weight') as tf.Tensor2D,
      tf.reshape(tf.cast(inputIds, 'int32'), [-1]),
    );
    const positions = tf.slice(this.w('pos_embed.weight'), [0, 0], [t, dModel]);
    const x = tf.reshape(tf.add(tf.reshape(tokens, [batch, t, dModel]), positions), [
      batch * t,
      dModel,
    ]) as tf.Tensor2D;
    const { hidden } = this.layersForward(x, batch, t, causalMask(t, t));
    return tf.reshape(this.head(hidden), [batch, t, vocabSize]) as tf.Tensor3D;
  }

  sequenceLogProbs(inputIds: tf.Tensor2D, targetIds: tf.Tensor2D, options?: ForwardOptions): PolicyForward {
    return policyForwardFromLogits(this.logits(inputIds), targetIds, options);
  }

  emptyCache(): KvCache {
    return { keys: [], values: [], length: 0 };
  }

  /**
   * Incremental decoding: logits [B, V] of the last of the n new tokens and the extended cache. The
   * caller owns the returned tensors (dispose the previous cache once the new one exists). On
   * wasm-openblas, steps of fewer than DISPATCH_BOUND_ROWS rows run as one call of the fused decoder
   * (backend/wasm-fused-decode), which computes the same values as the kernels below, bit for bit.
   */
  decode(input: DecodeInput, cache: KvCache): { logits: tf.Tensor2D; cache: KvCache } {
    const [batch, n] = input.ids.shape;
    if (cache.length + n > this.config.context)
      throw new Error(`TransformerPolicy: decoding past the context of ${this.config.context} tokens`);
    if (batch * n < DISPATCH_BOUND_ROWS) {
      const fused = fusedDecodeStep(this.fusedModel(), input, cache);
      if (fused)
        return {
          logits: fused.logits,
          cache: { keys: [], values: [], length: cache.length + n, fused: fused.fused },
        };
    }
    if (!cache.fused) return this.decodeWithKernels(input, cache);
    const held = cache.fused.toTensors(cache.length, this.config.layers, this.config.dModel);
    try {
      return this.decodeWithKernels(input, { ...held, length: cache.length });
    } finally {
      disposeCache({ ...held, length: cache.length });
    }
  }

  /**
   * decode() on arrays, for the sampler (sampling/sampler.ts decodeStep): the fused decoder's step, logits
   * [batch * vocab] and the extended cache, when it takes this one; else null (the caller then calls
   * decode with tensors, which gives the same values).
   */
  decodeFused(input: FusedStepArrays, cache: KvCache): { logits: Float32Array; cache: KvCache } | null {
    const { batch, n } = input;
    if (batch * n >= DISPATCH_BOUND_ROWS || cache.length + n > this.config.context) return null;
    const out = fusedDecodeArrays(this.fusedModel(), input, cache);
    return (
      out && {
        logits: out.logits,
        cache: { keys: [], values: [], length: cache.length + n, fused: out.fused },
      }
    );
  }

  private decodeWithKernels(input: DecodeInput, cache: KvCache): { logits: tf.Tensor2D; cache: KvCache } {
    const [batch, n] = input.ids.shape;
    const { dModel } = this.config;
    let nextCache: KvCache | undefined;
    const logits = tf.tidy(() => {
      const ids = tf.reshape(tf.cast(input.ids, 'int32'), [-1]) as tf.Tensor1D;
      const pos = tf.reshape(tf.cast(input.positions, 'int32'), [-1]) as tf.Tensor1D;
      const x = tf.add(
        tf.gather(this.w('tok_embed.weight'), ids),
        tf.gather(this.w('pos_embed.weight'), pos),
      ) as tf.Tensor2D;
      const result = this.layersForward(x, batch, n, input.mask, cache);
      nextCache = result.cache;
      for (const t of [...nextCache!.keys, ...nextCache!.values]) tf.keep(t);
      const last =
        n === 1
          ? result.hidden
          : tf.reshape(
              tf.slice(tf.reshape(result.hidden, [batch, n, dModel]), [0, n - 1, 0], [batch, 1, dModel]),
              [batch, dModel],
            );
      return this.head(last as tf.Tensor2D);
    });
    return { logits, cache: nextCache! };
  }

  /** The model as the fused decoder reads it: shape, LoRA scale, and its weights in the decoder's order. */
  private fusedModel(): FusedDecodeModel {
    let model = this.fusedModels.get(this.adapters);
    if (model) return model;
    const c = this.config;
    const lora = c.lora && this.adapters ? c.lora : undefined;
    const applied = (name: string) => {
      const target = /\.(q|k|v|o|up|down)\.lora_[ab]$/.exec(name)?.[1] as LoraTarget | undefined;
      return target === undefined || (lora !== undefined && lora.targets.includes(target));
    };
    const weight = (name: string) => (applied(name) ? (this.weights.get(name) ?? null) : null);
    const names = [
      ...FUSED_GLOBAL_WEIGHTS,
      ...Array.from({ length: c.layers }, (_, i) =>
        FUSED_LAYER_WEIGHTS.map((w) => `layers.${i}.${w}`),
      ).flat(),
    ];
    model = {
      // prettier-ignore
      dims: Int32Array.from([c.vocabSize, c.dModel, c.layers, c.heads, c.context, c.mlpRatio * c.dModel,
        c.tieEmbeddings ? 1 : 0, lora ? lora.rank : 0]),
      loraScale: lora ? Math.fround(lora.alpha / lora.rank) : 0,
      weights: new FusedWeightTable(names.map(weight)),
    };
    this.fusedModels.set(this.adapters, model);
    return model;
  }

  setAdaptersEnabled(enabled: boolean): void {
    this.adapters = enabled;
  }

  adaptersEnabled(): boolean {
    return this.adapters;
  }

  trainableWeights(): ReadonlyMap<string, tf.Variable> {
    return this.config.lora ? adapterWeights(this.weights) : this.weights;
  }

  namedWeights(): ReadonlyMap<string, tf.Variable> {
    return this.weights;
  }

  dispose(): void {
    for (const weight of this.weights.values()) weight.dispose();
  }
}

export function disposeCache(cache: KvCache): void {
  for (const t of [...cache.keys, ...cache.values]) t.dispose();
  cache.fused?.release();
}
