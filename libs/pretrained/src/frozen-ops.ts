import * as tf from '@tensorflow/tfjs-core';
import { wasmBlasActive } from '@recon/policy';

/*
 * Ops on frozen base weights. The weight is closed over, not an input of the custom gradient, so the
 * backward pass computes only the input's gradient: a frozen 7B layer never gets a weight gradient.
 */

function recording(): boolean {
  return tf.engine().isTapeOn();
}

/**
 * dy [N,M] @ w^T for w [K,M]: the transpose flag on OpenBLAS, an explicit transpose on XNNPACK (see libs/policy
 * ops), freed as soon as the product exists: kept until the backward pass ended, the copies of every
 * projection would hold as much memory as the base weights.
 */
function inputGradient(dy: tf.Tensor2D, w: tf.Tensor2D): tf.Tensor2D {
  return wasmBlasActive() ? tf.matMul(dy, w, false, true) : tf.tidy(() => tf.matMul(dy, tf.transpose(w)));
}

/** x [N,K] @ w [K,M] (+ b [M]) with w and b frozen. */
export function frozenLinear(x: tf.Tensor2D, w: tf.Tensor2D, b?: tf.Tensor1D): tf.Tensor2D {
  const value = (input: tf.Tensor2D): tf.Tensor2D =>
    b ? (tf.add(tf.matMul(input, w), b) as tf.Tensor2D) : tf.matMul(input, w);
  if (!recording()) return tf.tidy(() => value(x));
  const op = tf.customGrad(((input: tf.Tensor) => ({
    value: value(input as tf.Tensor2D),
    gradFunc: (dy: tf.Tensor) => inputGradient(dy as tf.Tensor2D, w),
  })) as unknown as Parameters<typeof tf.customGrad>[0]);
  return op(x) as tf.Tensor2D;
}

/** hidden [N,D] @ table^T for a frozen table [V,D] (tied or untied output head in HF layout). */
export function frozenHead(hidden: tf.Tensor2D, table: tf.Tensor2D): tf.Tensor2D {
  const value = (h: tf.Tensor2D): tf.Tensor2D =>
    wasmBlasActive() ? tf.matMul(h, table, false, true) : tf.tidy(() => tf.matMul(h, tf.transpose(table)));
  if (!recording()) return value(hidden);
  const op = tf.customGrad(((h: tf.Tensor) => ({
    value: value(h as tf.Tensor2D),
    gradFunc: (dy: tf.Tensor) => tf.matMul(dy as tf.Tensor2D, table),
  })) as unknown as Parameters<typeof tf.customGrad>[0]);
  return op(hidden) as tf.Tensor2D;
}

/** RMSNorm over the last axis: x / sqrt(mean(x^2) + eps) * weight (weight frozen). */
export function rmsNorm(x: tf.Tensor2D, weight: tf.Tensor1D, eps: number): tf.Tensor2D {
  return tf.tidy(() => {
    const rstd = tf.rsqrt(tf.add(tf.mean(tf.square(x), -1, true), eps));
    return tf.mul(tf.mul(x, rstd), weight) as tf.Tensor2D;
  });
}

/** silu(gate) * up, SwiGLU's gating. */
export function swiglu(gate: tf.Tensor2D, up: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => tf.mul(tf.mul(gate, tf.sigmoid(gate)), up) as tf.Tensor2D);
}
