import { blasAddon } from './wasm-blas-matmul-kernel';

/**
 * values[i] = Math.exp(values[i]) for every i: on wasm-openblas by the addon (V8's exp algorithm, four
 * values at a time: the same doubles, several times faster; the fused decoder's spec checks them bit for
 * bit), elsewhere by Math.exp.
 */
export function expInPlace(values: Float64Array): void {
  const addon = blasAddon();
  if (addon) {
    addon.exp(values);
    return;
  }
  for (let i = 0; i < values.length; i++) values[i] = Math.exp(values[i]);
}
