import * as tf from '@tensorflow/tfjs-core';
import { blasAddon, WasmMemoryBackend } from './wasm-blas-matmul-kernel';

export const HEAD_MATMUL_KERNEL = 'PolicyHeadMatMul';

/**
 * The three products of multi-head attention over activations [B*T, D] whose heads sit side by side in
 * D (block (b, h) is rows b*T.., columns h*dh..) and per-(sequence, head) score matrices [B*H, T, T]:
 *  - 'blocks-blocksT': a, b [B*T, D] -> [B*H, T, T], a_bh b_bh^T (scores; dOut v^T)
 *  - 'scores-blocks':  a [B*H, T, T], b [B*T, D] -> [B*T, D], a_bh b_bh (p v; ds k)
 *  - 'scoresT-blocks': a [B*H, T, T], b [B*T, D] -> [B*T, D], a_bh^T b_bh (ds^T q; p^T dOut)
 */
export type HeadMatMulKind = 'blocks-blocksT' | 'scores-blocks' | 'scoresT-blocks';

export interface HeadMatMulAttrs {
  kind: HeadMatMulKind;
  batch: number;
  heads: number;
}

/**
 * OpenBLAS reads the blocks in place (leading dimension D) and writes each head's output into its
 * columns of [B*T, D]: no slices, concats or transposes, one sgemm call per sequence for all its heads.
 */
function headMatMul(args: {
  inputs: tf.NamedTensorInfoMap;
  backend: unknown;
  attrs?: unknown;
}): tf.TensorInfo {
  const addon = blasAddon();
  if (!addon) throw new Error(`${HEAD_MATMUL_KERNEL}: the OpenBLAS kernels are not enabled`);
  const backend = args.backend as WasmMemoryBackend;
  const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
  const { kind, batch, heads } = args.attrs as HeadMatMulAttrs;
  const blocks = kind === 'blocks-blocksT' ? a : b;
  const [rows, d] = blocks.shape;
  const t = rows / batch;
  const dh = d / heads;
  const out = backend.makeOutput(kind === 'blocks-blocksT' ? [batch * heads, t, t] : [rows, d], 'float32');
  const offset = (x: tf.TensorInfo) => backend.dataIdMap.get(x.dataId).memoryOffset;
  const [aOff, bOff, cOff] = [offset(a), offset(b), offset(out)];
  const heap = backend.wasm.HEAPU8.buffer as ArrayBuffer;
  const blockBytes = 4 * t * d; // one sequence's rows of [B*T, D]
  const scoreBytes = 4 * heads * t * t; // one sequence's [H, T, T]
  for (let s = 0; s < batch; s++) {
    if (kind === 'blocks-blocksT')
      // prettier-ignore
      addon.gemm(heap, false, true, heads, t, t, dh,
        aOff + s * blockBytes, d, dh, bOff + s * blockBytes, d, dh, cOff + s * scoreBytes, t, t * t, -1);
    else
      // prettier-ignore
      addon.gemm(heap, kind === 'scoresT-blocks', false, heads, t, dh, t,
        aOff + s * scoreBytes, t, t * t, bOff + s * blockBytes, d, dh, cOff + s * blockBytes, d, dh, -1);
  }
  return out;
}

let registered = false;

export function registerWasmHeadMatMulKernel(): void {
  if (registered) return;
  tf.registerKernel({ kernelName: HEAD_MATMUL_KERNEL, backendName: 'wasm', kernelFunc: headMatMul });
  registered = true;
}

/** Runs the head product `kind` (see HeadMatMulKind); only while wasmBlasActive(). */
export function headMatMulOp(a: tf.Tensor, b: tf.Tensor, attrs: HeadMatMulAttrs): tf.Tensor {
  return tf
    .engine()
    .runKernel(HEAD_MATMUL_KERNEL, { a, b }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor;
}
