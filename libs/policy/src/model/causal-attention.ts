import * as tf from '@tensorflow/tfjs-core';
import { headMatMulOp, HeadMatMulKind } from '../backend/wasm-blas-head-matmul-kernel';
import { wasmBlasActive } from '../backend/wasm-blas-matmul-kernel';

/** Additive causal mask [T,S] where query t (at absolute position offset + t) may see keys 0..offset+t. */
export function causalMask(queries: number, keys: number): tf.Tensor2D {
  const offset = keys - queries;
  const values = new Float32Array(queries * keys);
  for (let t = 0; t < queries; t++) for (let s = offset + t + 1; s < keys; s++) values[t * keys + s] = -1e9;
  return tf.tensor2d(values, [queries, keys]);
}

/**
 * Causal multi-head attention of q, k, v [B*T, D] (heads side by side in D) -> [B*T, D].
 *
 * Each (sequence, head) block is sliced straight out of the [B*T, D] activations (the backend's Slice
 * must copy only the block: see backend/wasm-slice-kernel) and multiplied with plain, non-transposed 2-D
 * matmuls: on WASM those take XNNPACK's fast kernel, while batched or transposed matmuls run 10-20x
 * slower. K and V enter transposed, from one transpose of the whole activation per layer instead of one
 * per block. The backward pass recomputes the probabilities rather than keeping B*H*T*T activations
 * alive until the step ends. dK and dV are (ds^T) q and p^T dOut with the [t,t] factor transposed
 * explicitly: XNNPACK packs a matmul's right operand on every call, so [t,t] there (q^T ds) costs
 * about twice as much as transposing it.
 */
export function causalSelfAttention(
  q: tf.Tensor2D,
  k: tf.Tensor2D,
  v: tf.Tensor2D,
  batch: number,
  heads: number,
): tf.Tensor2D {
  if (wasmBlasActive()) return blasCausalSelfAttention(q, k, v, batch, heads);
  const [rows, dModel] = q.shape;
  const t = rows / batch;
  const dh = dModel / heads;
  const scale = 1 / Math.sqrt(dh);
  /** Block [t, dh] of sequence b, head h from [B*T, D]. */
  const block = (x: tf.Tensor, b: number, h: number) => tf.slice(x, [b * t, h * dh], [t, dh]) as tf.Tensor2D;
  /** The same block, transposed ([dh, t]), from the transposed activation [D, B*T]. */
  const blockT = (xT: tf.Tensor, b: number, h: number) =>
    tf.slice(xT, [h * dh, b * t], [dh, t]) as tf.Tensor2D;
  const probabilities = (qs: tf.Tensor, kT: tf.Tensor, mask: tf.Tensor, b: number, h: number) =>
    tf.softmax(tf.add(tf.matMul(block(qs, b, h), blockT(kT, b, h)), mask)) as tf.Tensor2D;
  /** [t, dh] blocks per sequence and head -> [B*T, D]. */
  const assemble = (blocks: tf.Tensor[][]) => {
    const perSequence = blocks.map((hs) => tf.concat(hs, 1));
    const whole = tf.concat(perSequence, 0);
    for (const x of [...blocks.flat(), ...perSequence]) x.dispose();
    return whole;
  };
  const attention = tf.customGrad(((
    qIn: tf.Tensor,
    kIn: tf.Tensor,
    vIn: tf.Tensor,
    save: tf.GradSaveFunc,
  ) => {
    const mask = causalMask(t, t);
    const qs = tf.mul(qIn, scale);
    const kT = tf.transpose(kIn);
    const outputs: tf.Tensor[][] = [];
    for (let b = 0; b < batch; b++) {
      const row: tf.Tensor[] = [];
      for (let h = 0; h < heads; h++)
        row.push(tf.tidy(() => tf.matMul(probabilities(qs, kT, mask, b, h), block(vIn, b, h))));
      outputs.push(row);
    }
    save([qs, kIn, vIn, kT, mask]);
    return {
      value: assemble(outputs),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [qsS, kS, vS, kTS, maskS] = saved;
        const vT = tf.transpose(vS);
        const grads: tf.Tensor[][][] = [[], [], []];
        for (let b = 0; b < batch; b++) {
          const row: tf.Tensor[][] = [[], [], []];
          for (let h = 0; h < heads; h++) {
            const blockGrads = tf.tidy(() => {
              const p = probabilities(qsS, kTS, maskS, b, h);
              const dOut = block(dy, b, h);
              const dp = tf.matMul(dOut, blockT(vT, b, h));
              const ds = tf.mul(p, tf.sub(dp, tf.sum(tf.mul(dp, p), -1, true))) as tf.Tensor2D;
              return [
                tf.matMul(ds, block(kS, b, h)),
                tf.matMul(tf.transpose(ds), block(qsS, b, h)),
                tf.matMul(tf.transpose(p), dOut),
              ];
            });
            blockGrads.forEach((g, i) => row[i].push(g));
          }
          row.forEach((r, i) => grads[i].push(r));
        }
        vT.dispose();
        const [dq, dk, dv] = grads.map((g) => assemble(g));
        const dqScaled = tf.mul(dq, scale);
        dq.dispose();
        return [dqScaled, dk, dv];
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return attention(q, k, v) as tf.Tensor2D;
}

/**
 * causalSelfAttention on OpenBLAS (wasm-openblas): the same formula and recomputing backward pass, but
 * all heads at once: the products read each (sequence, head) block in place from [B*T, D] and write
 * outputs straight into their columns (backend/wasm-blas-head-matmul-kernel), so there is no slice,
 * concat or transpose, and softmax runs once over [B*H, T, T] instead of once per block.
 */
function blasCausalSelfAttention(
  q: tf.Tensor2D,
  k: tf.Tensor2D,
  v: tf.Tensor2D,
  batch: number,
  heads: number,
): tf.Tensor2D {
  const [rows, dModel] = q.shape;
  const t = rows / batch;
  const scale = 1 / Math.sqrt(dModel / heads);
  const product = (a: tf.Tensor, b: tf.Tensor, kind: HeadMatMulKind) =>
    headMatMulOp(a, b, { kind, batch, heads });
  const probabilities = (qs: tf.Tensor, ks: tf.Tensor, mask: tf.Tensor) =>
    tf.softmax(tf.add(product(qs, ks, 'blocks-blocksT'), mask));
  const attention = tf.customGrad(((
    qIn: tf.Tensor,
    kIn: tf.Tensor,
    vIn: tf.Tensor,
    save: tf.GradSaveFunc,
  ) => {
    const mask = causalMask(t, t);
    const qs = tf.mul(qIn, scale);
    const value = tf.tidy(() => product(probabilities(qs, kIn, mask), vIn, 'scores-blocks'));
    save([qs, kIn, vIn, mask]);
    return {
      value,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
        tf.tidy(() => {
          const [qsS, kS, vS, maskS] = saved;
          const p = probabilities(qsS, kS, maskS);
          const dp = product(dy, vS, 'blocks-blocksT');
          const ds = tf.mul(p, tf.sub(dp, tf.sum(tf.mul(dp, p), -1, true)));
          return [
            tf.mul(product(ds, kS, 'scores-blocks'), scale),
            product(ds, qsS, 'scoresT-blocks'),
            product(p, dy, 'scoresT-blocks'),
          ];
        }),
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return attention(q, k, v) as tf.Tensor2D;
}
