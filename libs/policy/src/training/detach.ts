import { ensureGradientsRegistered } from './tfjs-gradients';

ensureGradientsRegistered();
import * as tf from '@tensorflow/tfjs-core';

/** tfjs has no stop-gradient op: an identity whose gradient is zero (torch's `.detach()`). */
const detachOp = tf.customGrad((...inputs: Array<tf.Tensor | tf.GradSaveFunc>) => ({
  value: tf.clone(inputs[0] as tf.Tensor),
  gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy),
}));

export function detach<T extends tf.Tensor>(x: T): T {
  return detachOp(x) as T;
}
