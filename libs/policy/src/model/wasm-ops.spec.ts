import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../backend';
import {
  kvCacheDecoder,
  layerNormInputs,
  logitsAt,
  maxAbsDiff,
  maxGradientDiff,
  plainCausalAttention,
  plainGelu,
  plainLayerNorm,
  SMALL_TRANSFORMER,
} from '../training/testing/transformer-checks';
import { ensureGradientsRegistered } from '../training/tfjs-gradients';
import { causalSelfAttention } from './causal-attention';
import { generate } from '../sampling/sampler';
import { columnSums, gelu, layerNorm, linear, matmul2d } from './ops';
import { TransformerPolicy } from './transformer';

// The kernels selectBackend('wasm') re-registers and the custom gradients, on the backend they were
// written for: each against plain values or plain autodiff of the same formula.
ensureGradientsRegistered();

beforeAll(async () => {
  await selectBackend('wasm');
});

function iota(shape: number[]): tf.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(
    Float32Array.from({ length: n }, (_, i) => i),
    shape,
  );
}

describe('wasm kernels', () => {
  it('slice copies exactly the selected region, for every rank and for int32', () => {
    expect(tf.getBackend()).toBe('wasm');
    const x = iota([4, 5, 6]);
    const got = tf.slice(x, [1, 2, 3], [2, 3, 2]);
    const want: number[] = [];
    for (let i = 1; i < 3; i++)
      for (let j = 2; j < 5; j++) for (let k = 3; k < 5; k++) want.push(i * 30 + j * 6 + k);
    expect(got.shape).toEqual([2, 3, 2]);
    expect(Array.from(got.dataSync())).toEqual(want);
    expect(Array.from(tf.slice(tf.tensor1d([1, 2, 3, 4], 'int32'), [1], [2]).dataSync())).toEqual([2, 3]);
    expect(Array.from(tf.slice(iota([3, 4]), [1, 0], [-1, 4]).dataSync())).toEqual([
      4, 5, 6, 7, 8, 9, 10, 11,
    ]);
    expect(tf.slice(iota([3, 4]), [0, 1], [0, 2]).shape).toEqual([0, 2]);
  });

  it('transpose of a matrix equals the element-wise definition; other ranks still work', () => {
    const x = tf.randomNormal([37, 70], 0, 1, 'float32', 1);
    const values = x.dataSync();
    const t = tf.transpose(x).dataSync();
    let worst = 0;
    for (let i = 0; i < 37; i++)
      for (let j = 0; j < 70; j++) worst = Math.max(worst, Math.abs(t[j * 37 + i] - values[i * 70 + j]));
    expect(worst).toBe(0);
    expect(Array.from(tf.transpose(tf.tensor2d([[1, 2, 3]], [1, 3], 'int32')).dataSync())).toEqual([1, 2, 3]);
    expect(Array.from(tf.transpose(iota([2, 1, 3]), [2, 0, 1]).dataSync())).toEqual([0, 3, 1, 4, 2, 5]);
  });
});

describe('custom gradients on wasm equal plain autodiff', () => {
  it('columnSums equals tf.sum over rows', () => {
    const x = tf.randomNormal([33, 7], 0, 1, 'float32', 2) as tf.Tensor2D;
    expect(maxAbsDiff(columnSums(x), tf.sum(x, 0))).toBeLessThan(1e-5);
  });

  it('linear (fused bias and not) and matmul2d (both weight-gradient orientations)', () => {
    for (const [n, k, m] of [
      [9, 4, 11],
      [9, 11, 4],
      [70, 5, 6], // enough rows for the fused-bias matmul
    ]) {
      const x = tf.randomNormal([n, k], 0, 1, 'float32', 3) as tf.Tensor2D;
      const w = tf.randomNormal([k, m], 0, 1, 'float32', 4) as tf.Tensor2D;
      const b = tf.randomNormal([m], 0, 1, 'float32', 5) as tf.Tensor1D;
      const dy = tf.randomNormal([n, m], 0, 1, 'float32', 6);
      const plain = (a: tf.Tensor, c: tf.Tensor) => tf.matMul(a as tf.Tensor2D, c as tf.Tensor2D);
      const ours = (a: tf.Tensor, c: tf.Tensor, d: tf.Tensor) =>
        linear(a as tf.Tensor2D, c as tf.Tensor2D, d as tf.Tensor1D);
      const plainLinear = (a: tf.Tensor, c: tf.Tensor, d: tf.Tensor) => tf.add(plain(a, c), d);
      expect(maxGradientDiff(ours, plainLinear, [x, w, b], dy)).toBeLessThan(1e-5);
      const mm = (a: tf.Tensor, c: tf.Tensor) => matmul2d(a as tf.Tensor2D, c as tf.Tensor2D);
      expect(maxGradientDiff(mm, plain, [x, w], dy)).toBeLessThan(1e-5);
    }
  });

  it.each([40, 70])('gelu (sigmoid form, %i rows: JS kernel / tfjs ops) equals the tanh formula', (rows) => {
    const x = tf.randomNormal([rows, 9], 0, 3, 'float32', 7);
    const dy = tf.randomNormal([rows, 9], 0, 1, 'float32', 8);
    expect(maxAbsDiff(gelu(x), plainGelu(x))).toBeLessThan(1e-5);
    expect(maxGradientDiff(gelu, plainGelu, [x], dy)).toBeLessThan(1e-5);
  });

  it('layerNorm', () => {
    const { x, gain, bias, dy } = layerNormInputs(12, 9);
    const ours = (a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) =>
      layerNorm(a as tf.Tensor2D, g as tf.Tensor1D, b as tf.Tensor1D);
    expect(maxGradientDiff(ours, plainLayerNorm, [x, gain, bias], dy)).toBeLessThan(1e-5);
  });

  it('causalSelfAttention', () => {
    const [batch, t, heads, d] = [3, 6, 2, 8];
    const [q, k, v, dy] = [13, 14, 15, 16].map((seed) =>
      tf.randomNormal([batch * t, d], 0, 1, 'float32', seed),
    );
    const plain = plainCausalAttention(batch, t, heads, d);
    const ours = (a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) =>
      causalSelfAttention(a as tf.Tensor2D, b as tf.Tensor2D, c as tf.Tensor2D, batch, heads);
    expect(maxAbsDiff(ours(q, k, v), plain(q, k, v))).toBeLessThan(1e-5);
    expect(maxGradientDiff(ours, plain, [q, k, v], dy)).toBeLessThan(1e-5);
  });
});

describe('TransformerPolicy on wasm', () => {
  it('KV-cache decoding (one-kernel attention) gives the logits of a full forward pass', () => {
    const model = new TransformerPolicy(SMALL_TRANSFORMER);
    const tokens = [3, 1, 4, 1, 5, 9, 2, 6];
    const full = model.logits(tf.tensor2d([tokens], [1, tokens.length], 'int32'));
    const decoder = kvCacheDecoder(model);
    expect(maxAbsDiff(decoder.step(tokens.slice(0, 3), 0), logitsAt(full, 2))).toBeLessThan(1e-5);
    for (let t = 3; t < tokens.length; t++)
      expect(maxAbsDiff(decoder.step([tokens[t]], t), logitsAt(full, t))).toBeLessThan(1e-5);
    model.dispose();
  });

  it('a batched, left-padded generation gives each row what it gets alone', () => {
    const model = new TransformerPolicy(SMALL_TRANSFORMER);
    const decoder = { decode: (ids: readonly number[]) => ids.join(' ') };
    const requests = [
      { promptIds: [5, 6, 7, 8, 9], seed: 1 },
      { promptIds: [11, 12], seed: 2 },
    ];
    const options = { temperature: 1, maxTokens: 10 };
    const together = generate(model, decoder, requests, options);
    requests.forEach((r, i) => {
      const [alone] = generate(model, decoder, [r], options);
      expect(together[i].tokens).toEqual(alone.tokens);
      alone.logProbs.forEach((lp, j) => expect(Math.abs(lp - together[i].logProbs[j])).toBeLessThan(1e-5));
    });
    model.dispose();
  });
});
