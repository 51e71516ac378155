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

/** Bytes of one [H, T, T] float32 score tensor per chunk of sequences the OpenBLAS attention aims for. */
export const ATTENTION_CHUNK_BYTES = 64 * 2 ** 20;

/** Sequences whose [H, T, T] scores the OpenBLAS attention computes at once (at least one). */
export function attentionChunkSequences(length: number, heads: number): number {
  return Math.max(1, Math.floor(ATTENTION_CHUNK_BYTES / (4 * heads * length * length)));
}

/**
 * Longest [H, T, T] of one sequence the all-heads OpenBLAS attention takes (T 4,096 at 4 heads): its backward
 * pass holds about seven of them. Longer sequences take the per-head blocks, which hold seven [T, T].
 */
export const BLAS_ATTENTION_MAX_SEQUENCE_BYTES = 256 * 2 ** 20;

/** Whether the all-heads OpenBLAS attention takes sequences of `length`. */
export function blasAttentionFits(length: number, heads: number): boolean {
  return 4 * heads * length * length <= BLAS_ATTENTION_MAX_SEQUENCE_BYTES;
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
  // Sequences too long for the all-heads scores take the per-head blocks below.
  if (wasmBlasActive() && blasAttentionFits(q.shape[0] / batch, heads))
    return blasCausalSelfAttention(q, k, v, batch, heads);
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
 * concat or transpose, and softmax runs once over [C*H, T, T] instead of once per block. C is a chunk of
 * sequences (attentionChunkSequences): the backward pass holds several score tensors at once, and over
 * the whole batch of long sequences they outgrow the wasm heap. Every row is computed by the same kernels
 * with the same operands whatever the chunk, so chunking does not change a bit of the result.
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
  const product = (a: tf.Tensor, b: tf.Tensor, kind: HeadMatMulKind, sequences: number) =>
    headMatMulOp(a, b, { kind, batch: sequences, heads });
  const probabilities = (qs: tf.Tensor, ks: tf.Tensor, mask: tf.Tensor, sequences: number) =>
    tf.softmax(tf.add(product(qs, ks, 'blocks-blocksT', sequences), mask));
  const chunk = attentionChunkSequences(t, heads);
  /** Runs `f` on each chunk's rows of the [B*T, D] inputs (sequences c.., `size` of them), concatenating its outputs' rows. */
  const chunked = (inputs: tf.Tensor[], f: (rows: tf.Tensor[], size: number) => tf.Tensor[]): tf.Tensor[] => {
    if (chunk >= batch) return tf.tidy(() => f(inputs, batch));
    const parts: tf.Tensor[][] = [];
    for (let first = 0; first < batch; first += chunk) {
      const size = Math.min(chunk, batch - first);
      const rows = (x: tf.Tensor) => tf.slice(x, [first * t, 0], [size * t, dModel]);
      parts.push(tf.tidy(() => f(inputs.map(rows), size)));
    }
    const joined = parts[0].map((_, i) => tf.concat(parts.map((part) => part[i])));
    for (const x of parts.flat()) x.dispose();
    return joined;
  };
  const attention = tf.customGrad(((
    qIn: tf.Tensor,
    kIn: tf.Tensor,
    vIn: tf.Tensor,
    save: tf.GradSaveFunc,
  ) => {
    const mask = causalMask(t, t);
    const qs = tf.mul(qIn, scale);
    const [value] = chunked([qs, kIn, vIn], ([qc, kc, vc], size) => [
      product(probabilities(qc, kc, mask, size), vc, 'scores-blocks', size),
    ]);
    save([qs, kIn, vIn, mask]);
    return {
      value,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [qsS, kS, vS, maskS] = saved;
        return chunked([qsS, kS, vS, dy], ([qc, kc, vc, dyc], size) => {
          const p = probabilities(qc, kc, maskS, size);
          const dp = product(dyc, vc, 'blocks-blocksT', size);
          const ds = tf.mul(p, tf.sub(dp, tf.sum(tf.mul(dp, p), -1, true)));
          return [
            tf.mul(product(ds, kc, 'scores-blocks', size), scale),
            product(ds, qc, 'scoresT-blocks', size),
            product(p, dyc, 'scoresT-blocks', size),
          ];
        });
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return attention(q, k, v) as tf.Tensor2D;
}
