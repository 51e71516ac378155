import * as tf from '@tensorflow/tfjs-core';
import { blasAddon } from './wasm-blas-matmul-kernel';
import { WasmHeapBackend } from './wasm-heap';

export const LAYER_NORM_KERNEL = 'PolicyLayerNorm';
export const LAYER_NORM_GRAD_KERNEL = 'PolicyLayerNormGrad';

/**
 * LayerNorm over the rows of x [N,D] in one pass over the wasm heap: y = xhat * gain + bias, plus xhat
 * [N,D] and rstd [N] for the backward pass. Built from tfjs ops it is about eleven kernels (moments,
 * broadcasts, rsqrt), each a full pass with its own dispatch cost; decoding runs nine per token.
 * Accumulates in float64, in row order, so it is deterministic. On wasm-openblas the addon computes it
 * (native/blas-matmul/fused_decode.c layer_norm: the same operations in the same order, the same bits).
 */
function layerNormForward(args: {
  inputs: tf.NamedTensorInfoMap;
  backend: unknown;
  attrs?: tf.NamedAttrMap;
}): tf.TensorInfo[] {
  const { x, gain, bias } = args.inputs as Record<string, tf.TensorInfo>;
  const epsilon = (args.attrs as { epsilon: number }).epsilon;
  const backend = args.backend as WasmHeapBackend;
  const [rows, cols] = x.shape;
  const y = backend.makeOutput([rows, cols], 'float32');
  const xhat = backend.makeOutput([rows, cols], 'float32');
  const rstd = backend.makeOutput([rows], 'float32');
  const [xs, gs, bs, ys, hs, rs] = [x, gain, bias, y, xhat, rstd].map(
    (t) => backend.typedArrayFromHeap(t) as Float32Array,
  );
  const addon = blasAddon();
  if (addon && rows > 0 && cols > 0) {
    addon.layerNorm(xs, gs, bs, epsilon, ys, hs, rs);
    return [y, xhat, rstd];
  }
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    let sum = 0;
    for (let c = 0; c < cols; c++) sum += xs[o + c];
    const mean = sum / cols;
    let squares = 0;
    for (let c = 0; c < cols; c++) {
      const d = xs[o + c] - mean;
      squares += d * d;
    }
    const inv = 1 / Math.sqrt(squares / cols + epsilon);
    rs[r] = inv;
    for (let c = 0; c < cols; c++) {
      const h = Math.fround((xs[o + c] - mean) * inv);
      hs[o + c] = h;
      ys[o + c] = h * gs[c] + bs[c];
    }
  }
  return [y, xhat, rstd];
}

/** dx, dgain, dbias of layerNormForward from dy, xhat, rstd and gain (the textbook formula). */
function layerNormBackward(args: { inputs: tf.NamedTensorInfoMap; backend: unknown }): tf.TensorInfo[] {
  const { dy, xhat, rstd, gain } = args.inputs as Record<string, tf.TensorInfo>;
  const backend = args.backend as WasmHeapBackend;
  const [rows, cols] = dy.shape;
  const dx = backend.makeOutput([rows, cols], 'float32');
  const dgain = backend.makeOutput([cols], 'float32');
  const dbias = backend.makeOutput([cols], 'float32');
  const [dys, hs, rs, gs, dxs, dgs, dbs] = [dy, xhat, rstd, gain, dx, dgain, dbias].map(
    (t) => backend.typedArrayFromHeap(t) as Float32Array,
  );
  const gainSums = new Float64Array(cols);
  const biasSums = new Float64Array(cols);
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    let meanD = 0;
    let meanDH = 0;
    for (let c = 0; c < cols; c++) {
      const g = dys[o + c];
      const h = hs[o + c];
      const d = g * gs[c];
      meanD += d;
      meanDH += d * h;
      gainSums[c] += g * h;
      biasSums[c] += g;
    }
    meanD /= cols;
    meanDH /= cols;
    const inv = rs[r];
    for (let c = 0; c < cols; c++) dxs[o + c] = inv * (dys[o + c] * gs[c] - meanD - hs[o + c] * meanDH);
  }
  dgs.set(gainSums);
  dbs.set(biasSums);
  return [dx, dgain, dbias];
}

let registered = false;

export function registerWasmLayerNormKernels(): void {
  if (registered) return;
  tf.registerKernel({ kernelName: LAYER_NORM_KERNEL, backendName: 'wasm', kernelFunc: layerNormForward });
  tf.registerKernel({
    kernelName: LAYER_NORM_GRAD_KERNEL,
    backendName: 'wasm',
    kernelFunc: layerNormBackward,
  });
  registered = true;
}
