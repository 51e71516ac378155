import { ensureGradientsRegistered } from './tfjs-gradients';

ensureGradientsRegistered();
import * as tf from '@tensorflow/tfjs-core';

/**
 * Log-probability of each target token: logits [B,T,V], targets int32 [B,T] -> [B,T].
 * The one-hot is built as int32 and cast, because a float32 oneHot is broken on the wasm backend.
 */
export function tokenLogProbsFromLogits(logits: tf.Tensor3D, targets: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => {
    const vocab = logits.shape[2];
    const logSoftmax = tf.logSoftmax(logits, -1);
    const oneHot = tf.cast(tf.oneHot(tf.cast(targets, 'int32'), vocab), 'float32');
    return tf.sum(tf.mul(logSoftmax, oneHot), -1) as tf.Tensor2D;
  });
}

/**
 * Completion-only cross-entropy: the sum of -log p over tokens whose mask is 1 (completion tokens; prompt
 * and padding are 0), divided by `normalizer`. The default normaliser is this batch's completion-token
 * count (a mean over completion tokens); with gradient accumulation pass the count of the whole
 * accumulated batch so that the accumulated gradient equals the gradient of the full-batch mean.
 */
export function sftLossFromLogProbs(
  logProbs: tf.Tensor2D,
  completionMask: tf.Tensor2D,
  normalizer?: number,
): tf.Scalar {
  assertSameShape(logProbs, completionMask, 'sftLoss', 'logProbs', 'completionMask');
  return tf.tidy(() => {
    const mask = tf.cast(completionMask, 'float32');
    const denominator = normalizer ?? Math.max(tf.sum(mask).dataSync()[0], 1);
    if (!(denominator > 0)) throw new Error(`sftLoss: normalizer must be > 0, got ${denominator}`);
    return tf.div(tf.neg(tf.sum(tf.mul(logProbs, mask))), denominator) as tf.Scalar;
  });
}

export function sftLossFromLogits(
  logits: tf.Tensor3D,
  targets: tf.Tensor2D,
  completionMask: tf.Tensor2D,
  normalizer?: number,
): tf.Scalar {
  return tf.tidy(() =>
    sftLossFromLogProbs(tokenLogProbsFromLogits(logits, targets), completionMask, normalizer),
  );
}

/** Per-token entropy of the predictive distribution: logits [B,T,V] -> [B,T]. */
export function entropyFromLogits(logits: tf.Tensor3D): tf.Tensor2D {
  return tf.tidy(() => {
    const logSoftmax = tf.logSoftmax(logits, -1);
    return tf.neg(tf.sum(tf.mul(tf.exp(logSoftmax), logSoftmax), -1)) as tf.Tensor2D;
  });
}

export function assertSameShape(
  a: tf.Tensor,
  b: tf.Tensor,
  where: string,
  nameA: string,
  nameB: string,
): void {
  const same = a.shape.length === b.shape.length && a.shape.every((d, i) => d === b.shape[i]);
  if (!same)
    throw new Error(`${where}: ${nameA} shape [${a.shape}] differs from ${nameB} shape [${b.shape}]`);
}
