import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { ensureGradientsRegistered } from '../training/tfjs-gradients';
import { causalMask, causalSelfAttention } from './causal-attention';
import { embedRows, gelu, layerNorm, matmul2d } from './ops';
import { TransformerPolicy } from './transformer';
import { parameterCount } from './config';

ensureGradientsRegistered();

const small = { vocabSize: 40, dModel: 16, layers: 2, heads: 4, context: 24, seed: 7 };

beforeAll(async () => {
  await tf.setBackend('cpu');
});

function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);
}

describe('custom-gradient ops', () => {
  it('matmul2d gradients equal autodiff of tf.matMul', () => {
    const x = tf.randomNormal([5, 3], 0, 1, 'float32', 1) as tf.Tensor2D;
    const w = tf.randomNormal([3, 4], 0, 1, 'float32', 2) as tf.Tensor2D;
    const dy = tf.randomNormal([5, 4], 0, 1, 'float32', 3);
    const ours = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
      tf.sum(tf.mul(matmul2d(a as tf.Tensor2D, b as tf.Tensor2D), dy)),
    )([x, w]);
    const ref = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
      tf.sum(tf.mul(tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D), dy)),
    )([x, w]);
    expect(maxAbsDiff(ours[0], ref[0])).toBeLessThan(1e-5);
    expect(maxAbsDiff(ours[1], ref[1])).toBeLessThan(1e-5);
  });

  it('causalSelfAttention equals batched masked attention, values and gradients', () => {
    const [batch, t, heads, d] = [2, 5, 3, 12];
    const dh = d / heads;
    const q = tf.randomNormal([batch * t, d], 0, 1, 'float32', 4) as tf.Tensor2D;
    const k = tf.randomNormal([batch * t, d], 0, 1, 'float32', 5) as tf.Tensor2D;
    const v = tf.randomNormal([batch * t, d], 0, 1, 'float32', 6) as tf.Tensor2D;
    const dy = tf.randomNormal([batch * t, d], 0, 1, 'float32', 7);
    const reference = (a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) => {
      const split = (x: tf.Tensor) =>
        tf.reshape(tf.transpose(tf.reshape(x, [batch, t, heads, dh]), [0, 2, 1, 3]), [
          batch * heads,
          t,
          dh,
        ]) as tf.Tensor3D;
      const scores = tf.add(
        tf.mul(tf.matMul(split(a), split(b), false, true), 1 / Math.sqrt(dh)),
        causalMask(t, t),
      );
      const out = tf.matMul(tf.softmax(scores), split(c));
      return tf.reshape(tf.transpose(tf.reshape(out, [batch, heads, t, dh]), [0, 2, 1, 3]), [batch * t, d]);
    };
    const ours = (a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) =>
      causalSelfAttention(a as tf.Tensor2D, b as tf.Tensor2D, c as tf.Tensor2D, batch, heads);
    expect(maxAbsDiff(ours(q, k, v), reference(q, k, v))).toBeLessThan(1e-5);
    const loss =
      (f: (a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) => tf.Tensor) =>
      (a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) =>
        tf.sum(tf.mul(f(a, b, c), dy));
    const g1 = tf.grads(loss(ours))([q, k, v]);
    const g2 = tf.grads(loss(reference))([q, k, v]);
    for (let i = 0; i < 3; i++) expect(maxAbsDiff(g1[i], g2[i])).toBeLessThan(1e-4);
  });

  it('layerNorm and gelu gradients equal autodiff of their plain formulas', () => {
    const x = tf.randomNormal([6, 8], 0, 2, 'float32', 11) as tf.Tensor2D;
    const gain = tf.randomNormal([8], 1, 0.3, 'float32', 12) as tf.Tensor1D;
    const bias = tf.randomNormal([8], 0, 0.3, 'float32', 13) as tf.Tensor1D;
    const dy = tf.randomNormal([6, 8], 0, 1, 'float32', 14);
    const plainNorm = (a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
      const { mean, variance } = tf.moments(a, -1, true);
      return tf.add(tf.mul(tf.mul(tf.sub(a, mean), tf.rsqrt(tf.add(variance, 1e-5))), g), b);
    };
    const ourNorm = (a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) =>
      layerNorm(a as tf.Tensor2D, g as tf.Tensor1D, b as tf.Tensor1D);
    expect(maxAbsDiff(ourNorm(x, gain, bias), plainNorm(x, gain, bias))).toBeLessThan(1e-5);
    const g1 = tf.grads((a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(ourNorm(a, g, b), dy)))([
      x,
      gain,
      bias,
    ]);
    const g2 = tf.grads((a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(plainNorm(a, g, b), dy)))(
      [x, gain, bias],
    );
    for (let i = 0; i < 3; i++) expect(maxAbsDiff(g1[i], g2[i])).toBeLessThan(1e-4);
    const plainGelu = (a: tf.Tensor) =>
      tf.mul(
        tf.mul(a, 0.5),
        tf.add(tf.tanh(tf.mul(tf.add(a, tf.mul(tf.pow(a, 3), 0.044715)), Math.sqrt(2 / Math.PI))), 1),
      );
    expect(maxAbsDiff(gelu(x), plainGelu(x))).toBeLessThan(1e-6);
    const h1 = tf.grad((a: tf.Tensor) => tf.sum(tf.mul(gelu(a), dy)))(x);
    const h2 = tf.grad((a: tf.Tensor) => tf.sum(tf.mul(plainGelu(a), dy)))(x);
    expect(maxAbsDiff(h1, h2)).toBeLessThan(1e-5);
  });

  it('embedRows scatters gradients to repeated ids', () => {
    const table = tf.tensor2d([
      [1, 2],
      [3, 4],
      [5, 6],
    ]);
    const ids = tf.tensor1d([2, 0, 2], 'int32');
    const g = tf.grad((t: tf.Tensor) => tf.sum(embedRows(t as tf.Tensor2D, ids)))(table);
    expect(Array.from(g.dataSync())).toEqual([1, 1, 0, 0, 2, 2]);
  });
});

describe('TransformerPolicy', () => {
  it('is a function of its seed and counts its parameters', () => {
    const a = new TransformerPolicy(small);
    const b = new TransformerPolicy(small);
    const c = new TransformerPolicy({ ...small, seed: 8 });
    const total = [...a.namedWeights().values()].reduce((n, w) => n + w.size, 0);
    expect(total).toBe(parameterCount(a.config));
    expect(
      maxAbsDiff(
        a.namedWeights().get('layers.1.attn.q.weight')!,
        b.namedWeights().get('layers.1.attn.q.weight')!,
      ),
    ).toBe(0);
    expect(
      maxAbsDiff(
        a.namedWeights().get('layers.1.attn.q.weight')!,
        c.namedWeights().get('layers.1.attn.q.weight')!,
      ),
    ).toBeGreaterThan(0);
  });

  it('rejects a bad config naming the key', () => {
    expect(() => new TransformerPolicy({ ...small, heads: 3 })).toThrow(
      /heads: dModel must be divisible by heads/,
    );
    expect(() => new TransformerPolicy({ ...small, layers: 0 })).toThrow(/layers/);
  });

  it('is causal: changing a later token does not change earlier logits', () => {
    const model = new TransformerPolicy(small);
    const a = model.logits(tf.tensor2d([[1, 2, 3, 4, 5]], [1, 5], 'int32'));
    const b = model.logits(tf.tensor2d([[1, 2, 3, 9, 9]], [1, 5], 'int32'));
    expect(maxAbsDiff(tf.slice(a, [0, 0, 0], [1, 3, -1]), tf.slice(b, [0, 0, 0], [1, 3, -1]))).toBe(0);
    expect(
      maxAbsDiff(tf.slice(a, [0, 3, 0], [1, 1, -1]), tf.slice(b, [0, 3, 0], [1, 1, -1])),
    ).toBeGreaterThan(0);
  });

  it('KV-cache decoding gives the same logits as a full forward pass', () => {
    const model = new TransformerPolicy({ ...small, tieEmbeddings: true });
    const tokens = [3, 1, 4, 1, 5, 9, 2, 6];
    const full = model.logits(tf.tensor2d([tokens], [1, tokens.length], 'int32'));
    let cache = model.emptyCache();
    const prefill = 3;
    const step = (ids: number[], start: number) => {
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
    };
    let logits = step(tokens.slice(0, prefill), 0);
    expect(
      maxAbsDiff(logits, tf.reshape(tf.slice(full, [0, prefill - 1, 0], [1, 1, -1]), [1, -1])),
    ).toBeLessThan(1e-5);
    for (let t = prefill; t < tokens.length; t++) {
      logits = step([tokens[t]], t);
      expect(maxAbsDiff(logits, tf.reshape(tf.slice(full, [0, t, 0], [1, 1, -1]), [1, -1]))).toBeLessThan(
        1e-5,
      );
    }
    expect(cache.length).toBe(tokens.length);
  });

  it('refuses sequences longer than its context', () => {
    const model = new TransformerPolicy(small);
    expect(() => model.logits(tf.zeros([1, 25], 'int32') as tf.Tensor2D)).toThrow(/exceeds the context 24/);
  });

  it('LoRA starts equal to the base, trains only adapters, and the reference is adapters-off', () => {
    const model = new TransformerPolicy({ ...small, lora: { rank: 2, alpha: 4, targets: ['q', 'v', 'up'] } });
    const ids = tf.tensor2d([[1, 2, 3, 4]], [1, 4], 'int32');
    const on = model.logits(ids);
    model.setAdaptersEnabled(false);
    const off = model.logits(ids);
    model.setAdaptersEnabled(true);
    expect(maxAbsDiff(on, off)).toBe(0);
    const trainable = [...model.trainableWeights().keys()];
    expect(trainable).toHaveLength(2 * 3 * 2);
    expect(trainable.every((name) => /\.lora_[ab]$/.test(name))).toBe(true);
    model
      .namedWeights()
      .get('layers.0.attn.q.lora_b')!
      .assign(tf.onesLike(model.namedWeights().get('layers.0.attn.q.lora_b')!));
    expect(maxAbsDiff(model.logits(ids), off)).toBeGreaterThan(0);
  });

  it('its gradient reaches every trainable weight', () => {
    const model = new TransformerPolicy(small);
    const ids = tf.tensor2d([[1, 2, 3, 4, 5, 6]], [1, 6], 'int32');
    const targets = tf.tensor2d([[2, 3, 4, 5, 6, 7]], [1, 6], 'int32');
    const weights = [...model.trainableWeights().entries()];
    const { grads } = tf.variableGrads(
      () => tf.neg(tf.sum(model.sequenceLogProbs(ids, targets).logProbs)) as tf.Scalar,
      weights.map(([, w]) => w),
    );
    for (const [name, w] of weights) {
      const norm = tf.norm(grads[w.name]).dataSync()[0];
      expect({ name, finite: Number.isFinite(norm), positive: norm > 0 }).toEqual({
        name,
        finite: true,
        positive: true,
      });
    }
  });
});
