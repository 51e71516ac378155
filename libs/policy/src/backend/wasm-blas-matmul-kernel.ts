import * as tf from '@tensorflow/tfjs-core';
import type { BlasAddon } from './blas-addon';
import { replaceWasmKernel } from './replace-wasm-kernel';
import { WasmHeapBackend } from './wasm-heap';

/** The parts of BackendWasm that locate a tensor's bytes on the heap. */
export interface WasmMemoryBackend extends WasmHeapBackend {
  wasm: { HEAPU8: Uint8Array };
  dataIdMap: { get(dataId: tf.DataId): { memoryOffset: number } };
}

/** The addon the kernels call, or null for the stock XNNPACK kernels (plain `wasm`). */
let blas: BlasAddon | null = null;

/** Routes the wasm backend's MatMul kernels to `addon` (null: back to the stock kernels). */
export function setWasmBlas(addon: BlasAddon | null): void {
  blas = addon;
  registerWasmBlasMatMulKernels();
}

/** The addon the OpenBLAS kernels call, or null on plain wasm. */
export function blasAddon(): BlasAddon | null {
  return blas;
}

export function wasmBlasEnabled(): boolean {
  return blas !== null;
}

/**
 * Whether tf.matMul runs on OpenBLAS now (wasm-openblas selected and wasm the current backend): then
 * transposed operands cost nothing (sgemm reads them in place), so callers pass transpose flags instead
 * of materialising transposes, which plain wasm needs for XNNPACK's fast path.
 */
export function wasmBlasActive(): boolean {
  return blas !== null && tf.getBackend() === 'wasm';
}

const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

/**
 * For batch dims that broadcast (numpy rules, right-aligned): which matrix of a and of b each output
 * matrix multiplies, as [aIndex, bIndex] in row-major order of the output's batch dims.
 */
function broadcastIndices(aDims: number[], bDims: number[], outDims: number[]): [number, number][] {
  const strides = (dims: number[]) => {
    // Stride of each output axis in `dims`' matrices (0 where dims broadcasts along it).
    const padded = [...Array(outDims.length - dims.length).fill(1), ...dims];
    const result = new Array<number>(outDims.length).fill(0);
    for (let i = outDims.length - 1, step = 1; i >= 0; step *= padded[i], i--)
      result[i] = padded[i] === 1 ? 0 : step;
    return result;
  };
  const [sa, sb] = [strides(aDims), strides(bDims)];
  const indices: [number, number][] = [];
  const index = new Array<number>(outDims.length).fill(0);
  for (let flat = 0; flat < size(outDims); flat++) {
    let [ia, ib] = [0, 0];
    for (let d = 0; d < outDims.length; d++) [ia, ib] = [ia + index[d] * sa[d], ib + index[d] * sb[d]];
    indices.push([ia, ib]);
    for (let d = outDims.length - 1; d >= 0 && ++index[d] === outDims[d]; d--) index[d] = 0;
  }
  return indices;
}

/**
 * C = op(a) op(b) (+ bias) for float32 a [..., m, k] and b [..., k, n] (op: optional transpose of the last
 * two axes; batch dims broadcast), with every product on OpenBLAS. Returns null for what it does not
 * handle (other dtypes, mismatched shapes, a bias that is not [n]), which the stock kernel then takes.
 */
function blasMatMul(
  backend: WasmMemoryBackend,
  addon: BlasAddon,
  a: tf.TensorInfo,
  b: tf.TensorInfo,
  transposeA: boolean,
  transposeB: boolean,
  bias: tf.TensorInfo | null,
): tf.TensorInfo | null {
  if (a.dtype !== 'float32' || b.dtype !== 'float32' || a.shape.length < 2 || b.shape.length < 2) return null;
  const ra = a.shape.length;
  const rb = b.shape.length;
  const m = transposeA ? a.shape[ra - 1] : a.shape[ra - 2];
  const k = transposeA ? a.shape[ra - 2] : a.shape[ra - 1];
  const kb = transposeB ? b.shape[rb - 1] : b.shape[rb - 2];
  const n = transposeB ? b.shape[rb - 2] : b.shape[rb - 1];
  if (k !== kb) return null; // the stock kernel raises tfjs's own shape error
  if (bias && (bias.dtype !== 'float32' || bias.shape.length !== 1 || bias.shape[0] !== n)) return null;
  const [aDims, bDims] = [a.shape.slice(0, -2), b.shape.slice(0, -2)];
  const batchDims = tf.broadcast_util.assertAndGetBroadcastShape(aDims, bDims);
  const batch = size(batchDims);
  const out = backend.makeOutput([...batchDims, m, n], 'float32');
  if (batch * m * n === 0) return out;
  if (k === 0) {
    // An empty sum: zeros, plus the bias on every row.
    const values = backend.typedArrayFromHeap(out) as Float32Array;
    values.fill(0);
    if (bias) for (let r = 0; r < batch * m; r++) values.set(backend.typedArrayFromHeap(bias), r * n);
    return out;
  }
  const offset = (t: tf.TensorInfo) => backend.dataIdMap.get(t.dataId).memoryOffset;
  const [aOff, bOff, cOff, biasOff] = [offset(a), offset(b), offset(out), bias ? offset(bias) : -1];
  const [lda, ldb] = [transposeA ? m : k, transposeB ? k : n];
  // Read the heap after makeOutput: growing the wasm memory replaces its ArrayBuffer.
  const heap = backend.wasm.HEAPU8.buffer as ArrayBuffer;
  const [batchA, batchB] = [size(aDims), size(bDims)];
  // A side whose batch equals the output's has its matrices laid out as the output's (broadcasting only
  // inserts size-1 axes there) and a side of one matrix repeats it: one call, with strides.
  if ((batchA === batch || batchA === 1) && (batchB === batch || batchB === 1)) {
    const [sa, sb] = [batchA === 1 ? 0 : m * k, batchB === 1 ? 0 : k * n];
    addon.gemm(
      heap,
      transposeA,
      transposeB,
      batch,
      m,
      n,
      k,
      aOff,
      lda,
      sa,
      bOff,
      ldb,
      sb,
      cOff,
      n,
      m * n,
      biasOff,
    );
    return out;
  }
  broadcastIndices(aDims, bDims, batchDims).forEach(([ia, ib], i) =>
    addon.gemm(
      heap,
      transposeA,
      transposeB,
      1,
      m,
      n,
      k,
      aOff + 4 * ia * m * k,
      lda,
      0,
      bOff + 4 * ib * k * n,
      ldb,
      0,
      cOff + 4 * i * m * n,
      n,
      0,
      biasOff,
    ),
  );
  return out;
}

let registered = false;

/**
 * Replaces the wasm backend's BatchMatMul (every tf.matMul) and _FusedMatMul (tf.fused.matMul with a
 * bias and no activation) with OpenBLAS sgemm on the heap while `setWasmBlas` has an addon; otherwise,
 * and for inputs blasMatMul declines, the stock kernels run. Idempotent.
 */
function registerWasmBlasMatMulKernels(): void {
  if (registered) return;
  replaceWasmKernel(tf.BatchMatMul, 'registerWasmBlasMatMulKernels', (stock) => (args) => {
    const { a, b } = args.inputs as unknown as tf.BatchMatMulInputs & { a: tf.TensorInfo; b: tf.TensorInfo };
    const { transposeA, transposeB } = args.attrs as unknown as tf.BatchMatMulAttrs;
    const out =
      blas &&
      blasMatMul(args.backend as unknown as WasmMemoryBackend, blas, a, b, transposeA, transposeB, null);
    return out || (stock.kernelFunc(args) as tf.TensorInfo);
  });
  replaceWasmKernel(tf._FusedMatMul, 'registerWasmBlasMatMulKernels', (stock) => (args) => {
    const inputs = args.inputs as unknown as Record<string, tf.TensorInfo | undefined>;
    const attrs = args.attrs as unknown as tf._FusedMatMulAttrs;
    const plain = attrs.activation === 'linear' && !inputs.preluActivationWeights;
    const out =
      blas &&
      plain &&
      blasMatMul(
        args.backend as unknown as WasmMemoryBackend,
        blas,
        inputs.a!,
        inputs.b!,
        attrs.transposeA,
        attrs.transposeB,
        inputs.bias ?? null,
      );
    return out || (stock.kernelFunc(args) as tf.TensorInfo);
  });
  registered = true;
}
