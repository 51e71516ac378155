import * as tf from '@tensorflow/tfjs-core';
import { blasUnavailableReason } from '../backend/blas-addon';
import { selectBackend } from '../backend/select-backend';
import { ensureGradientsRegistered } from '../training/tfjs-gradients';
import { attentionChunkSequences, causalSelfAttention } from './causal-attention';
import { trainingPassBytes } from './memory-estimate';

const unavailable = blasUnavailableReason();
if (unavailable) console.warn(`chunked OpenBLAS attention tests skipped: ${unavailable}`);
const describeBlas = unavailable ? describe.skip : describe;

jest.setTimeout(60_000);

/** Attention output and the gradients of q, k, v for sequences of `t` tokens, as flat arrays. */
function attentionAndGradients(q: tf.Tensor2D, k: tf.Tensor2D, v: tf.Tensor2D, batch: number, heads: number) {
  return tf.tidy(() => {
    // The same weights for every sequence of the batch: [t, d] repeated.
    const [rows, d] = q.shape;
    const perSequence = tf.reshape(tf.range(0, (rows / batch) * d), [rows / batch, d]);
    const weight = tf.tile(tf.sub(tf.mod(perSequence, 7), 3), [batch, 1]);
    const f = (a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) =>
      tf.sum(
        tf.mul(
          causalSelfAttention(a as tf.Tensor2D, b as tf.Tensor2D, c as tf.Tensor2D, batch, heads),
          weight,
        ),
      );
    const out = causalSelfAttention(q, k, v, batch, heads);
    const grads = tf.grads(f)([q, k, v]);
    return [out, ...grads].map((x) => x.dataSync() as Float32Array);
  });
}

describeBlas('OpenBLAS attention over long sequences, in chunks of sequences', () => {
  beforeAll(async () => {
    await selectBackend('wasm-openblas');
    ensureGradientsRegistered();
  });

  test('a batch cut into chunks gives bit for bit what each sequence gives alone', () => {
    const [t, heads, d, batch] = [1024, 4, 16, 5];
    expect(attentionChunkSequences(t, heads)).toBe(4); // so the batch is cut into 4 + 1
    const random = (seed: number) => tf.randomNormal([batch * t, d], 0, 1, 'float32', seed) as tf.Tensor2D;
    const [q, k, v] = [random(1), random(2), random(3)];
    const whole = attentionAndGradients(q, k, v, batch, heads);
    for (let b = 0; b < batch; b++) {
      const rows = (x: tf.Tensor2D) => tf.slice(x, [b * t, 0], [t, d]);
      const [qb, kb, vb] = [rows(q), rows(k), rows(v)];
      const alone = attentionAndGradients(qb, kb, vb, 1, heads);
      alone.forEach((values, i) =>
        expect(
          Buffer.from(values.buffer).equals(Buffer.from(whole[i].buffer, b * t * d * 4, t * d * 4)),
        ).toBe(true),
      );
      tf.dispose([qb, kb, vb]);
    }
    tf.dispose([q, k, v]);
  });

  test('the estimate of a pass at T 1,600 counts one chunk of scores, not the batch', () => {
    const model = { vocabSize: 512, dModel: 32, layers: 1, heads: 4 };
    const pass = (rows: number) => trainingPassBytes(model, { rows, length: 1600, openblas: true });
    // 8 sequences need 8x the per-token memory of 1, but no more score tensors (one sequence per chunk).
    expect(pass(8) - pass(1)).toBe(7 * 1600 * 4 * (104 * 32 + 8 * 512));
  });
});
