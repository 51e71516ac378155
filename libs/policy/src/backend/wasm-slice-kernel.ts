import * as tf from '@tensorflow/tfjs-core';
import { replaceWasmKernel } from './replace-wasm-kernel';
import { WasmHeapBackend } from './wasm-heap';

/**
 * Slice for the wasm backend that copies only the selected region. The stock kernel starts with
 * `readSync(x)`, which copies the whole input out of the wasm heap for every slice (taking one
 * attention head out of a [B*T, D] activation copied all of it).
 */
function sliceFromHeap(args: {
  inputs: tf.NamedTensorInfoMap;
  backend: unknown;
  attrs?: tf.NamedAttrMap;
}): tf.TensorInfo {
  const x = args.inputs.x as tf.TensorInfo;
  const attrs = args.attrs as unknown as tf.SliceAttrs;
  const backend = args.backend as WasmHeapBackend;
  const [begin, size] = tf.slice_util.parseSliceParams(x, attrs.begin, attrs.size);
  // Made before the views: allocating may grow the heap, which detaches views taken earlier.
  const out = backend.makeOutput(size, x.dtype);
  const count = tf.util.sizeFromShape(size);
  if (count === 0) return out;
  const src = backend.typedArrayFromHeap(x);
  const dst = backend.typedArrayFromHeap(out);
  const rank = x.shape.length;
  const strides = tf.util.computeStrides(x.shape);
  // Copy runs along the innermost axis; walk the outer axes as an odometer.
  const run = rank === 0 ? 1 : size[rank - 1];
  const index = new Array<number>(Math.max(rank - 1, 0)).fill(0);
  for (let written = 0; written < count; written += run) {
    let offset = rank === 0 ? 0 : begin[rank - 1];
    for (let axis = 0; axis < rank - 1; axis++) offset += (begin[axis] + index[axis]) * strides[axis];
    dst.set(src.subarray(offset, offset + run), written);
    for (let axis = rank - 2; axis >= 0; axis--) {
      if (++index[axis] < size[axis]) break;
      index[axis] = 0;
    }
  }
  return out;
}

/** Replaces the wasm backend's Slice kernel (strings keep the stock kernel). Idempotent. */
export function registerWasmSliceKernel(): void {
  replaceWasmKernel(
    'Slice',
    'registerWasmSliceKernel',
    (stock) => (args) =>
      (args.inputs.x as tf.TensorInfo).dtype === 'string'
        ? (stock.kernelFunc(args) as tf.TensorInfo)
        : sliceFromHeap(args),
  );
}
