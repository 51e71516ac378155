import * as tf from '@tensorflow/tfjs-core';
import { wasmFloatView } from '../backend/wasm-heap';
import { GELU_KERNEL } from '../backend/wasm-gelu-kernel';
import { LAYER_NORM_GRAD_KERNEL, LAYER_NORM_KERNEL } from '../backend/wasm-layer-norm-kernel';

/*
 * Differentiable building blocks with hand-written gradients. On the WASM backend only plain,
 * non-transposed 2-D matmuls take the fast kernel, gather's gradient needs a kernel the backend lacks
 * (UnsortedSegmentSum), and float one-hot is wrong; so these ops express their backward passes with
 * explicit transposes and plain 2-D matmuls, and build one-hot matrices as int then cast.
 */

/**
 * x^T dy for x [N,K], dy [N,M], as plain 2-D matmuls. XNNPACK packs the right operand on every call
 * (about as costly as the multiply when the left one has few rows), so the product is taken in the
 * orientation whose right operand is the narrower of the two: (dy^T x)^T when M > K.
 */
function weightGradient(x: tf.Tensor2D, dy: tf.Tensor2D): tf.Tensor2D {
  return dy.shape[1] > x.shape[1]
    ? (tf.transpose(tf.matMul(tf.transpose(dy), x)) as tf.Tensor2D)
    : tf.matMul(tf.transpose(x), dy);
}

/** x [N,K] @ w [K,M] with a backward pass made of non-transposed 2-D matmuls. */
export const matmul2d = tf.customGrad(((x: tf.Tensor, w: tf.Tensor, save: tf.GradSaveFunc) => {
  save([x, w]);
  return {
    value: tf.matMul(x as tf.Tensor2D, w as tf.Tensor2D),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [xs, ws] = saved as tf.Tensor2D[];
      return [tf.matMul(dy as tf.Tensor2D, tf.transpose(ws)), weightGradient(xs, dy as tf.Tensor2D)];
    },
  };
}) as unknown as Parameters<typeof tf.customGrad>[0]) as (x: tf.Tensor2D, w: tf.Tensor2D) => tf.Tensor2D;

/**
 * Sums over the rows of x [N,M] -> [M]. On WASM a column Sum (what autodiff of a broadcast add does)
 * transposes its input first and a ones-vector matmul packs all of x as weights, so there the sums are
 * read straight off the heap, in row order (float64 accumulators, deterministic).
 */
export function columnSums(x: tf.Tensor2D): tf.Tensor1D {
  const view = wasmFloatView(x);
  if (!view) return tf.sum(x, 0);
  const [rows, cols] = x.shape;
  const sums = new Float64Array(cols);
  for (let r = 0; r < rows; r++) {
    const offset = r * cols;
    for (let c = 0; c < cols; c++) sums[c] += view[offset + c];
  }
  return tf.tensor1d(Float32Array.from(sums));
}

/**
 * Below this many rows (decoding a token) per-op dispatch costs more than arithmetic: the bias add stays
 * separate (the fused-bias matmul adds four reshapes) and GELU runs as one JS kernel.
 */
const DISPATCH_BOUND_ROWS = 64;

/** x [N,K] @ w [K,M] + b [M], with matmul2d's backward pass and the bias gradient as columnSums. */
export const linear = tf.customGrad(((x: tf.Tensor, w: tf.Tensor, b: tf.Tensor, save: tf.GradSaveFunc) => {
  save([x, w]);
  return {
    value:
      x.shape[0] >= DISPATCH_BOUND_ROWS
        ? tf.fused.matMul({ a: x as tf.Tensor2D, b: w as tf.Tensor2D, bias: b })
        : tf.add(tf.matMul(x as tf.Tensor2D, w as tf.Tensor2D), b),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [xs, ws] = saved as tf.Tensor2D[];
      const g = dy as tf.Tensor2D;
      return [tf.matMul(g, tf.transpose(ws)), weightGradient(xs, g), columnSums(g)];
    },
  };
}) as unknown as Parameters<typeof tf.customGrad>[0]) as (
  x: tf.Tensor2D,
  w: tf.Tensor2D,
  b: tf.Tensor1D,
) => tf.Tensor2D;

/** Rows of `table` [V,D] for int32 ids [N]; gradient scattered with a one-hot matmul. */
export function embedRows(table: tf.Tensor2D, ids: tf.Tensor1D): tf.Tensor2D {
  const lookup = tf.customGrad(((t: tf.Tensor, save: tf.GradSaveFunc) => {
    // Saved so the ids outlive the forward pass's scope (they are not an input of this op).
    save([ids]);
    return {
      value: tf.gather(t, ids),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const oneHot = tf.cast(
          tf.oneHot(saved[0] as tf.Tensor1D, table.shape[0], 1, 0, 'int32'),
          'float32',
        ) as tf.Tensor2D;
        return [tf.matMul(tf.transpose(oneHot), dy as tf.Tensor2D)];
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return lookup(table) as tf.Tensor2D;
}

/**
 * LayerNorm over the last axis of x [N,D] with gain and bias [D]. Its gradient is written out (the
 * textbook form) so autodiff does not keep the five intermediates of moments/normalise per layer.
 */
export function layerNorm(x: tf.Tensor2D, gain: tf.Tensor1D, bias: tf.Tensor1D, epsilon = 1e-5): tf.Tensor2D {
  if (tf.getKernel(LAYER_NORM_KERNEL, tf.getBackend())) return fusedLayerNorm(x, gain, bias, epsilon);
  const norm = tf.customGrad(((xIn: tf.Tensor, g: tf.Tensor, b: tf.Tensor, save: tf.GradSaveFunc) => {
    const { mean, variance } = tf.moments(xIn, -1, true);
    const rstd = tf.rsqrt(tf.add(variance, epsilon));
    const xhat = tf.mul(tf.sub(xIn, mean), rstd);
    save([xhat, rstd, g]);
    return {
      value: tf.add(tf.mul(xhat, g), b),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xh, r, gs] = saved;
        const dxhat = tf.mul(dy, gs);
        const dx = tf.mul(
          r,
          tf.sub(tf.sub(dxhat, tf.mean(dxhat, -1, true)), tf.mul(xh, tf.mean(tf.mul(dxhat, xh), -1, true))),
        );
        return [dx, columnSums(tf.mul(dy, xh) as tf.Tensor2D), columnSums(dy as tf.Tensor2D)];
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return norm(x, gain, bias) as tf.Tensor2D;
}

/** layerNorm through the one-pass kernels of backend/wasm-layer-norm-kernel (same formula). */
function fusedLayerNorm(x: tf.Tensor2D, gain: tf.Tensor1D, bias: tf.Tensor1D, epsilon: number): tf.Tensor2D {
  const norm = tf.customGrad(((xIn: tf.Tensor, g: tf.Tensor, b: tf.Tensor, save: tf.GradSaveFunc) => {
    const [y, xhat, rstd] = tf
      .engine()
      .runKernel(LAYER_NORM_KERNEL, { x: xIn, gain: g, bias: b }, { epsilon }) as tf.Tensor[];
    save([xhat, rstd, g]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xh, r, gs] = saved;
        return tf
          .engine()
          .runKernel(LAYER_NORM_GRAD_KERNEL, { dy, xhat: xh, rstd: r, gain: gs }) as tf.Tensor[];
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return norm(x, gain, bias) as tf.Tensor2D;
}

const GELU_C = Math.sqrt(2 / Math.PI);
const GELU_A = 0.044715;

/** [gelu(x), sigmoid(2u)] from tfjs ops. */
function geluWithSigmoid(x: tf.Tensor): [tf.Tensor, tf.Tensor] {
  const s = tf.sigmoid(tf.mul(x, tf.add(tf.mul(tf.square(x), 2 * GELU_C * GELU_A), 2 * GELU_C)));
  return [tf.mul(x, s), s];
}

/**
 * GELU, tanh approximation (GPT-2), computed as x * sigmoid(2u) with u = c(x + a x^3), which equals
 * 0.5 x (1 + tanh u): on WASM Sigmoid is a SIMD kernel while Tanh and Pow are scalar and about 8x
 * slower. Saves x and the sigmoid for the backward pass (two tensors instead of autodiff's six).
 */
export const gelu = tf.customGrad(((x: tf.Tensor, save: tf.GradSaveFunc) => {
  // Only for few rows (decoding), where dispatch dominates; on training batches the SIMD ops win.
  const [y, s] =
    x.shape[0] < DISPATCH_BOUND_ROWS && tf.getKernel(GELU_KERNEL, tf.getBackend())
      ? (tf.engine().runKernel(GELU_KERNEL, { x }) as tf.Tensor[])
      : geluWithSigmoid(x);
  save([x, s]);
  return {
    value: y,
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [xs, ss] = saved;
      // d/dx [x s(2u)] = s (1 + x (1 - s) 2u'), 2u' = 2c (1 + 3a x^2).
      const du = tf.add(tf.mul(tf.square(xs), 6 * GELU_C * GELU_A), 2 * GELU_C);
      const local = tf.mul(ss, tf.add(tf.mul(tf.mul(xs, tf.sub(1, ss)), du), 1));
      return [tf.mul(dy, local)];
    },
  };
}) as unknown as Parameters<typeof tf.customGrad>[0]) as (x: tf.Tensor) => tf.Tensor;
