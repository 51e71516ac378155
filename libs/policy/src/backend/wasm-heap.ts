import * as tf from '@tensorflow/tfjs-core';

export type HeapArray = Float32Array | Int32Array | Uint8Array;

/** The parts of tfjs-backend-wasm's BackendWasm that kernels here use to read and write its heap. */
export interface WasmHeapBackend {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(t: tf.TensorInfo): HeapArray;
}

/**
 * A view (no copy) of a float32 tensor's data on the wasm heap, or null on other backends. Valid only
 * until the next allocation on the heap (growing it detaches the view).
 */
export function wasmFloatView(x: tf.Tensor): Float32Array | null {
  if (tf.getBackend() !== 'wasm' || x.dtype !== 'float32') return null;
  return (tf.backend() as unknown as WasmHeapBackend).typedArrayFromHeap(x) as Float32Array;
}
