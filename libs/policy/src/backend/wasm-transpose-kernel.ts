import * as tf from '@tensorflow/tfjs-core';
import { replaceWasmKernel } from './replace-wasm-kernel';
import { WasmHeapBackend } from './wasm-heap';

const TILE = 32;

/** Cache-blocked transpose of a row-major [rows, cols] matrix. */
function transpose2d(
  src: Float32Array | Int32Array,
  dst: Float32Array | Int32Array,
  rows: number,
  cols: number,
) {
  for (let i0 = 0; i0 < rows; i0 += TILE) {
    const i1 = Math.min(rows, i0 + TILE);
    for (let j0 = 0; j0 < cols; j0 += TILE) {
      const j1 = Math.min(cols, j0 + TILE);
      for (let i = i0; i < i1; i++) {
        const row = i * cols;
        for (let j = j0; j < j1; j++) dst[j * rows + i] = src[row + j];
      }
    }
  }
}

/**
 * Replaces the wasm backend's Transpose for 2-D float32/int32 matrices with a cache-blocked copy on the
 * heap (the stock kernel's element loop runs about 1.7x slower on the [B*T, D] activations the matmul
 * gradients transpose). Other ranks and dtypes keep the stock kernel. Idempotent.
 */
export function registerWasmTransposeKernel(): void {
  replaceWasmKernel('Transpose', 'registerWasmTransposeKernel', (stock) => (args) => {
    const x = args.inputs.x as tf.TensorInfo;
    const perm = (args.attrs as unknown as tf.TransposeAttrs).perm;
    const is2d = x.shape.length === 2 && perm[0] === 1 && perm[1] === 0;
    if (!is2d || (x.dtype !== 'float32' && x.dtype !== 'int32'))
      return stock.kernelFunc(args) as tf.TensorInfo;
    const backend = args.backend as WasmHeapBackend;
    const [rows, cols] = x.shape;
    const out = backend.makeOutput([cols, rows], x.dtype);
    const src = backend.typedArrayFromHeap(x) as Float32Array | Int32Array;
    const dst = backend.typedArrayFromHeap(out) as Float32Array | Int32Array;
    transpose2d(src, dst, rows, cols);
    return out;
  });
}
