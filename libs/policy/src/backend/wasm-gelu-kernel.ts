import * as tf from '@tensorflow/tfjs-core';
import { WasmHeapBackend } from './wasm-heap';

export const GELU_KERNEL = 'PolicyGelu';

const TWO_C = 2 * Math.sqrt(2 / Math.PI);
const A = 0.044715;

/**
 * GELU (tanh approximation) in one pass over the wasm heap: y = x * s with s = sigmoid(2c(x + a x^3)),
 * returning s too for the backward pass. The same formula as tfjs ops is six kernels, each a full pass
 * with its own dispatch (decoding runs one GELU per layer and token).
 */
function geluForward(args: { inputs: tf.NamedTensorInfoMap; backend: unknown }): tf.TensorInfo[] {
  const x = args.inputs.x as tf.TensorInfo;
  const backend = args.backend as WasmHeapBackend;
  const y = backend.makeOutput(x.shape, 'float32');
  const s = backend.makeOutput(x.shape, 'float32');
  const [xs, ys, ss] = [x, y, s].map((t) => backend.typedArrayFromHeap(t) as Float32Array);
  for (let i = 0; i < xs.length; i++) {
    const v = xs[i];
    const sig = 1 / (1 + Math.exp(-TWO_C * v * (1 + A * v * v)));
    ss[i] = sig;
    ys[i] = v * sig;
  }
  return [y, s];
}

let registered = false;

export function registerWasmGeluKernel(): void {
  if (registered) return;
  tf.registerKernel({ kernelName: GELU_KERNEL, backendName: 'wasm', kernelFunc: geluForward });
  registered = true;
}
