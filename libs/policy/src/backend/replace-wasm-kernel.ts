import * as tf from '@tensorflow/tfjs-core';

const replaced = new Set<string>();

/**
 * Swaps the wasm backend's kernel `kernelName` for the one `replacement` makes from the stock kernel
 * (which it falls back to for the inputs it does not handle); the stock setup is kept. Idempotent:
 * replacing again would wrap the replacement in itself.
 */
export function replaceWasmKernel(
  kernelName: string,
  caller: string,
  replacement: (stock: tf.KernelConfig) => tf.KernelFunc,
): void {
  if (replaced.has(kernelName)) return;
  const stock = tf.getKernel(kernelName, 'wasm');
  if (!stock) throw new Error(`${caller}: the wasm backend has no ${kernelName} kernel to replace`);
  tf.unregisterKernel(kernelName, 'wasm');
  tf.registerKernel({
    kernelName,
    backendName: 'wasm',
    setupFunc: stock.setupFunc,
    kernelFunc: replacement(stock),
  });
  replaced.add(kernelName);
}
