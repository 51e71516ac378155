import * as tf from '@tensorflow/tfjs-core';
import { causalMask } from '../../model/causal-attention';
import type { TransformerPolicy } from '../../model/transformer';

/**
 * What the transformer specs check the custom ops and the model against, on whichever backend they run:
 * the plain formulas (plain tfjs ops, plain autodiff) and a token-by-token KV-cache decoder.
 */

/** Two layers, four heads, width 16: small enough for a spec, large enough to have every part. */
export const SMALL_TRANSFORMER = { vocabSize: 40, dModel: 16, layers: 2, heads: 4, context: 24, seed: 7 };

export function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);
}

/**
 * The largest difference, over every input, between the gradients of sum(f(inputs) * dy) for the two
 * functions: custom gradients against plain autodiff of the same formula.
 */
export function maxGradientDiff(
  ours: (...inputs: tf.Tensor[]) => tf.Tensor,
  plain: (...inputs: tf.Tensor[]) => tf.Tensor,
  inputs: tf.Tensor[],
  dy: tf.Tensor,
): number {
  const gradients = (f: (...inputs: tf.Tensor[]) => tf.Tensor) =>
    tf.grads((...args: tf.Tensor[]) => tf.sum(tf.mul(f(...args), dy)))(inputs);
  const [a, b] = [gradients(ours), gradients(plain)];
  return Math.max(...a.map((g, i) => maxAbsDiff(g, b[i])));
}

/** Random layer-norm inputs of `rows` rows of width 8, and an upstream gradient, from seeds `seed` on. */
export function layerNormInputs(rows: number, seed: number) {
  return {
    x: tf.randomNormal([rows, 8], 0, 2, 'float32', seed) as tf.Tensor2D,
    gain: tf.randomNormal([8], 1, 0.3, 'float32', seed + 1) as tf.Tensor1D,
    bias: tf.randomNormal([8], 0, 0.3, 'float32', seed + 2) as tf.Tensor1D,
    dy: tf.randomNormal([rows, 8], 0, 1, 'float32', seed + 3),
  };
}

/** GELU in its tanh form. */
export function plainGelu(a: tf.Tensor): tf.Tensor {
  return tf.mul(
    tf.mul(a, 0.5),
    tf.add(tf.tanh(tf.mul(tf.add(a, tf.mul(tf.pow(a, 3), 0.044715)), Math.sqrt(2 / Math.PI))), 1),
  );
}

/** Layer norm over the last axis (epsilon 1e-5), then gain and bias. */
export function plainLayerNorm(a: tf.Tensor, gain: tf.Tensor, bias: tf.Tensor): tf.Tensor {
  const { mean, variance } = tf.moments(a, -1, true);
  return tf.add(tf.mul(tf.mul(tf.sub(a, mean), tf.rsqrt(tf.add(variance, 1e-5))), gain), bias);
}

/**
 * Causal multi-head self-attention as batched, masked matmuls over [batch * t, d] queries, keys and values
 * (the `batch` sequences of `t` tokens one after the other).
 */
export function plainCausalAttention(batch: number, t: number, heads: number, d: number) {
  const dh = d / heads;
  const split = (x: tf.Tensor) =>
    tf.reshape(tf.transpose(tf.reshape(x, [batch, t, heads, dh]), [0, 2, 1, 3]), [
      batch * heads,
      t,
      dh,
    ]) as tf.Tensor3D;
  return (q: tf.Tensor, k: tf.Tensor, v: tf.Tensor): tf.Tensor => {
    const scores = tf.add(
      tf.mul(tf.matMul(split(q), split(k), false, true), 1 / Math.sqrt(dh)),
      causalMask(t, t),
    );
    const out = tf.matMul(tf.softmax(scores), split(v));
    return tf.reshape(tf.transpose(tf.reshape(out, [batch, heads, t, dh]), [0, 2, 1, 3]), [batch * t, d]);
  };
}

/** The logits at position `t` of a [1, T, vocab] forward pass, as [1, vocab]. */
export function logitsAt(full: tf.Tensor, t: number): tf.Tensor {
  return tf.reshape(tf.slice(full, [0, t, 0], [1, 1, -1]), [1, -1]);
}

/**
 * Decodes one sequence through the model's KV cache: each step feeds the tokens from position `start` on
 * (each sees itself and everything before it) and returns the logits of the last one.
 */
export function kvCacheDecoder(model: TransformerPolicy) {
  let cache = model.emptyCache();
  return {
    step(ids: number[], start: number): tf.Tensor2D {
      const n = ids.length;
      const keys = start + n;
      const mask = new Float32Array(n * keys).fill(-1e9);
      for (let t = 0; t < n; t++) for (let s = 0; s <= start + t; s++) mask[t * keys + s] = 0;
      const out = model.decode(
        {
          ids: tf.tensor2d([ids], [1, n], 'int32'),
          positions: tf.tensor2d([ids.map((_, i) => start + i)], [1, n], 'int32'),
          mask: tf.tensor4d(mask, [1, 1, n, keys]),
        },
        cache,
      );
      cache = out.cache;
      return out.logits;
    },
    /** How many positions the cache holds. */
    cached: () => cache.length,
  };
}
