import * as tf from '@tensorflow/tfjs-core';

/** One token sequence; positions before `completionStart` are prompt and carry no loss. */
export interface TokenSequence {
  tokens: readonly number[];
  completionStart: number;
}

export interface TokenBatch {
  inputIds: tf.Tensor2D;
  targetIds: tf.Tensor2D;
  /** 1 where the target is a completion token [B,T]. */
  completionMask: tf.Tensor2D;
  /** Row-major copy of the mask, for metrics and for placing per-token values. */
  maskValues: Float32Array;
  columns: number;
  completionTokens: number;
}

/**
 * Next-token batch from sequences: inputs tokens[0..n-2], targets tokens[1..n-1], right-padded with
 * `padId` (mask 0) to the longest row. A causal model never lets padding influence earlier positions.
 */
export function buildTokenBatch(
  sequences: readonly TokenSequence[],
  padId: number,
  maxLength?: number,
): TokenBatch {
  if (sequences.length === 0) throw new Error('buildTokenBatch: no sequences');
  sequences.forEach((s, row) => {
    if (s.tokens.length < 2)
      throw new Error(`buildTokenBatch: row ${row} has ${s.tokens.length} tokens, need >= 2`);
    if (
      !Number.isInteger(s.completionStart) ||
      s.completionStart < 1 ||
      s.completionStart > s.tokens.length
    ) {
      throw new Error(
        `buildTokenBatch: row ${row} completionStart ${s.completionStart} outside [1, ${s.tokens.length}]`,
      );
    }
    if (maxLength !== undefined && s.tokens.length - 1 > maxLength) {
      throw new Error(
        `buildTokenBatch: row ${row} needs ${s.tokens.length - 1} positions, context is ${maxLength}`,
      );
    }
  });
  const columns = Math.max(...sequences.map((s) => s.tokens.length - 1));
  const rows = sequences.length;
  const inputs = new Int32Array(rows * columns).fill(padId);
  const targets = new Int32Array(rows * columns).fill(padId);
  const mask = new Float32Array(rows * columns);
  let completionTokens = 0;
  sequences.forEach((s, row) => {
    for (let t = 0; t < s.tokens.length - 1; t++) {
      inputs[row * columns + t] = s.tokens[t];
      targets[row * columns + t] = s.tokens[t + 1];
      if (t + 1 >= s.completionStart) {
        mask[row * columns + t] = 1;
        completionTokens += 1;
      }
    }
  });
  return {
    inputIds: tf.tensor2d(inputs, [rows, columns], 'int32'),
    targetIds: tf.tensor2d(targets, [rows, columns], 'int32'),
    completionMask: tf.tensor2d(mask, [rows, columns], 'float32'),
    maskValues: mask,
    columns,
    completionTokens,
  };
}

export function disposeBatch(batch: TokenBatch): void {
  batch.inputIds.dispose();
  batch.targetIds.dispose();
  batch.completionMask.dispose();
}

/** Runs `f` under variableGrads over the named weights and returns gradients keyed by those names. */
export function namedGradients(
  weights: ReadonlyMap<string, tf.Variable>,
  f: () => tf.Scalar,
): { value: number; grads: Record<string, tf.Tensor> } {
  const byVariable = new Map<string, string>();
  for (const [name, v] of weights) byVariable.set(v.name, name);
  const { value, grads } = tf.variableGrads(f, [...weights.values()]);
  const named: Record<string, tf.Tensor> = {};
  for (const [variableName, g] of Object.entries(grads)) {
    const name = byVariable.get(variableName);
    if (name === undefined)
      throw new Error(`namedGradients: gradient for unexpected variable ${variableName}`);
    named[name] = g;
  }
  for (const name of weights.keys()) {
    if (!(name in named))
      throw new Error(`namedGradients: weight "${name}" received no gradient (not used by the loss?)`);
  }
  const loss = value.dataSync()[0];
  value.dispose();
  return { value: loss, grads: named };
}
