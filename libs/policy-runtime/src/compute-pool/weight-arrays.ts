import * as tf from '@tensorflow/tfjs-core';
import type { TransformerPolicy } from '@recon/policy';
import type { WeightArrays } from './protocol';

/** Copies of a model's weights, for another thread. */
export function weightArrays(model: TransformerPolicy): WeightArrays {
  const out: WeightArrays = {};
  for (const [name, t] of model.namedWeights())
    out[name] = { shape: [...t.shape], values: (t.dataSync() as Float32Array).slice() };
  return out;
}

/** Writes weights into a model; every weight the model has must be given, with its shape. */
export function assignWeights(model: TransformerPolicy, weights: WeightArrays): void {
  const named = model.namedWeights();
  for (const [name, variable] of named) {
    const given = weights[name];
    if (!given) throw new Error(`no weight "${name}" given`);
    if (given.shape.join(',') !== variable.shape.join(','))
      throw new Error(`weight "${name}" is [${given.shape}], the model has [${variable.shape}]`);
    tf.tidy(() => variable.assign(tf.tensor(given.values, given.shape, 'float32')));
  }
  for (const name of Object.keys(weights))
    if (!named.has(name)) throw new Error(`the model has no weight "${name}"`);
}
