import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import {
  kvCacheDecoder,
  layerNormInputs,
  logitsAt,
  maxAbsDiff,
  maxGradientDiff,
  plainCausalAttention,
  plainGelu,
  plainLayerNorm,
  SMALL_TRANSFORMER as small,
} from '../training/testing/transformer-checks';
import { ensureGradientsRegistered } from '../training/tfjs-gradients';
import { causalSelfAttention } from './causal-attention';
import { embedRows, gelu, layerNorm, matmul2d } from './ops';
import { TransformerPolicy } from './transformer';
import { parameterCount } from './config';

ensureGradientsRegistered();

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('custom-gradient ops', () => {
  it('matmul2d gradients equal autodiff of tf.matMul', () => {
    const x = tf.randomNormal([5, 3], 0, 1, 'float32', 1) as tf.Tensor2D;
    const w = tf.randomNormal([3, 4], 0, 1, 'float32', 2) as tf.Tensor2D;
    const dy = tf.randomNormal([5, 4], 0, 1, 'float32', 3);
    const ours = (a: tf.Tensor, b: tf.Tensor) => matmul2d(a as tf.Tensor2D, b as tf.Tensor2D);
    const plain = (a: tf.Tensor, b: tf.Tensor) => tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D);
    expect(maxGradientDiff(ours, plain, [x, w], dy)).toBeLessThan(1e-5);
  });

  it('causalSelfAttention equals batched masked attention, values and gradients', () => {
    const [batch, t, heads, d] = [2, 5, 3, 12];
    const q = tf.randomNormal([batch * t, d], 0, 1, 'float32', 4) as tf.Tensor2D;
    const k = tf.randomNormal([batch * t, d], 0, 1, 'float32', 5) as tf.Tensor2D;
    const v = tf.randomNormal([batch * t, d], 0, 1, 'float32', 6) as tf.Tensor2D;
    const dy = tf.randomNormal([batch * t, d], 0, 1, 'float32', 7);
    const reference = plainCausalAttention(batch, t, heads, d);
    const ours = (a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) =>
      causalSelfAttention(a as tf.Tensor2D, b as tf.Tensor2D, c as tf.Tensor2D, batch, heads);
    expect(maxAbsDiff(ours(q, k, v), reference(q, k, v))).toBeLessThan(1e-5);
    expect(maxGradientDiff(ours, reference, [q, k, v], dy)).toBeLessThan(1e-4);
  });

  it('layerNorm and gelu gradients equal autodiff of their plain formulas', () => {
    const { x, gain, bias, dy } = layerNormInputs(6, 11);
    const ourNorm = (a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) =>
      layerNorm(a as tf.Tensor2D, g as tf.Tensor1D, b as tf.Tensor1D);
    expect(maxAbsDiff(ourNorm(x, gain, bias), plainLayerNorm(x, gain, bias))).toBeLessThan(1e-5);
    expect(maxGradientDiff(ourNorm, plainLayerNorm, [x, gain, bias], dy)).toBeLessThan(1e-4);
    expect(maxAbsDiff(gelu(x), plainGelu(x))).toBeLessThan(1e-6);
    expect(maxGradientDiff(gelu, plainGelu, [x], dy)).toBeLessThan(1e-5);
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
    const decoder = kvCacheDecoder(model);
    const prefill = 3;
    expect(maxAbsDiff(decoder.step(tokens.slice(0, prefill), 0), logitsAt(full, prefill - 1))).toBeLessThan(
      1e-5,
    );
    for (let t = prefill; t < tokens.length; t++)
      expect(maxAbsDiff(decoder.step([tokens[t]], t), logitsAt(full, t))).toBeLessThan(1e-5);
    expect(decoder.cached()).toBe(tokens.length);
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
