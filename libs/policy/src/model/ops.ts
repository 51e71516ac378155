import * as tf from '@tensorflow/tfjs-core';
import { wasmBlasActive } from '../backend/wasm-blas-matmul-kernel';
import { wasmFloatView, WasmHeapBackend } from '../backend/wasm-heap';
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
  if (wasmBlasActive()) return tf.matMul(x, dy, true, false);
  return dy.shape[1] > x.shape[1]
    ? (tf.transpose(tf.matMul(tf.transpose(dy), x)) as tf.Tensor2D)
    : tf.matMul(tf.transpose(x), dy);
}

/** dy [N,M] @ w^T for w [K,M]: with the transpose flag on OpenBLAS, else explicitly (see weightGradient). */
function inputGradient(dy: tf.Tensor2D, w: tf.Tensor2D): tf.Tensor2D {
  return wasmBlasActive() ? tf.matMul(dy, w, false, true) : tf.matMul(dy, tf.transpose(w));
}

/**
 * Whether autodiff is recording. Without it (decoding, evaluation) the ops below compute their values
 * directly: a customGrad wrapper costs a kernel scope of its own per call, which decoding (tens of
 * small ops per token) pays in full. The values are the same ops either way.
 */
function recording(): boolean {
  return tf.engine().isTapeOn();
}

/** x [N,K] @ w [K,M] with a backward pass made of non-transposed 2-D matmuls. */
export function matmul2d(x: tf.Tensor2D, w: tf.Tensor2D): tf.Tensor2D {
  return recording() ? matmul2dWithGrad(x, w) : tf.matMul(x, w);
}

const matmul2dWithGrad = tf.customGrad(((x: tf.Tensor, w: tf.Tensor, save: tf.GradSaveFunc) => {
  save([x, w]);
  return {
    value: tf.matMul(x as tf.Tensor2D, w as tf.Tensor2D),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [xs, ws] = saved as tf.Tensor2D[];
      return [inputGradient(dy as tf.Tensor2D, ws), weightGradient(xs, dy as tf.Tensor2D)];
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
 * separate (the fused-bias matmul adds four reshapes) and GELU runs as one JS kernel (whose arithmetic the
 * fused decoder of wasm-openblas reproduces, so it takes only steps of fewer rows).
 */
export const DISPATCH_BOUND_ROWS = 64;

/**
 * x [N,K] @ w [K,M] + b [M]: on OpenBLAS one sgemm that starts from the bias (its _FusedMatMul kernel takes
 * 2-D operands, skipping the op's reshapes); on plain wasm the fused-bias matmul for many rows.
 */
function linearValue(x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D): tf.Tensor2D {
  if (wasmBlasActive()) {
    const attrs = { transposeA: false, transposeB: false, activation: 'linear', leakyreluAlpha: 0 };
    return tf.engine().runKernel(tf._FusedMatMul, { a: x, b: w, bias: b }, attrs) as tf.Tensor2D;
  }
  return x.shape[0] >= DISPATCH_BOUND_ROWS
    ? (tf.fused.matMul({ a: x, b: w, bias: b }) as tf.Tensor2D)
    : tf.tidy(() => tf.add(tf.matMul(x, w), b) as tf.Tensor2D);
}

/** x [N,K] @ w [K,M] + b [M], with matmul2d's backward pass and the bias gradient as columnSums. */
export function linear(x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D): tf.Tensor2D {
  return recording() ? linearWithGrad(x, w, b) : linearValue(x, w, b);
}

const linearWithGrad = tf.customGrad(((x: tf.Tensor, w: tf.Tensor, b: tf.Tensor, save: tf.GradSaveFunc) => {
  save([x, w]);
  return {
    value: linearValue(x as tf.Tensor2D, w as tf.Tensor2D, b as tf.Tensor1D),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [xs, ws] = saved as tf.Tensor2D[];
      const g = dy as tf.Tensor2D;
      return [inputGradient(g, ws), weightGradient(xs, g), columnSums(g)];
    },
  };
}) as unknown as Parameters<typeof tf.customGrad>[0]) as (
  x: tf.Tensor2D,
  w: tf.Tensor2D,
  b: tf.Tensor1D,
) => tf.Tensor2D;

/**
 * The [V,D] gradient of a row lookup: dy's rows [N,D] summed into the rows `ids` [N] name, in row order
 * (float64 sums), read straight off the wasm heap. Only on wasm-openblas: plain wasm keeps its one-hot
 * matmul, whose rounding its recorded runs depend on.
 */
function scatterRows(dy: tf.Tensor2D, ids: tf.Tensor1D, rows: number): tf.Tensor2D {
  const heap = tf.backend() as unknown as WasmHeapBackend;
  const [g, index] = [heap.typedArrayFromHeap(dy), heap.typedArrayFromHeap(ids)];
  const cols = dy.shape[1];
  const sums = new Float64Array(rows * cols);
  for (let r = 0; r < index.length; r++) {
    const [from, to] = [r * cols, index[r] * cols];
    for (let c = 0; c < cols; c++) sums[to + c] += g[from + c];
  }
  return tf.tensor2d(Float32Array.from(sums), [rows, cols]);
}

/** Rows of `table` [V,D] for int32 ids [N]; gradient scattered with a one-hot matmul (or scatterRows). */
export function embedRows(table: tf.Tensor2D, ids: tf.Tensor1D): tf.Tensor2D {
  const lookup = tf.customGrad(((t: tf.Tensor, save: tf.GradSaveFunc) => {
    // Saved so the ids outlive the forward pass's scope (they are not an input of this op).
    save([ids]);
    return {
      value: tf.gather(t, ids),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        if (wasmBlasActive())
          return [scatterRows(dy as tf.Tensor2D, saved[0] as tf.Tensor1D, table.shape[0])];
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
  if (tf.getKernel(LAYER_NORM_KERNEL, tf.getBackend())) {
    if (recording()) return fusedLayerNorm(x, gain, bias, epsilon);
    const [y, xhat, rstd] = tf
      .engine()
      .runKernel(LAYER_NORM_KERNEL, { x, gain, bias }, { epsilon }) as tf.Tensor[];
    tf.dispose([xhat, rstd]);
    return y as tf.Tensor2D;
  }
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
export function gelu(x: tf.Tensor): tf.Tensor {
  return recording() ? geluWithGrad(x) : tf.tidy(() => geluAndSigmoid(x)[0]);
}

function geluAndSigmoid(x: tf.Tensor): [tf.Tensor, tf.Tensor] {
  // The kernel only for few rows (decoding), where dispatch dominates; on training batches the SIMD ops win.
  return x.shape[0] < DISPATCH_BOUND_ROWS && tf.getKernel(GELU_KERNEL, tf.getBackend())
    ? (tf.engine().runKernel(GELU_KERNEL, { x }) as [tf.Tensor, tf.Tensor])
    : geluWithSigmoid(x);
}

const geluWithGrad = tf.customGrad(((x: tf.Tensor, save: tf.GradSaveFunc) => {
  const [y, s] = geluAndSigmoid(x);
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
