import * as tf from '@tensorflow/tfjs-core';
import { blasAddon, type WasmMemoryBackend } from './wasm-blas-matmul-kernel';
import { WasmHeapBackend } from './wasm-heap';

export const DECODE_ATTENTION_KERNEL = 'PolicyDecodeAttention';

/**
 * Attention of n new queries over a KV cache in one kernel: q [B*n, D], keys and values [B, S, D],
 * additive mask [B, 1, n, S] -> [B*n, D]. Decoding is bound by per-op dispatch, not arithmetic (about
 * 2*S*D multiply-adds per query and layer), and the tfjs-op version is about twenty kernels per layer
 * with batched matmuls, which WASM runs on its slow path. float64 accumulators, fixed order. On
 * wasm-openblas the addon computes it (native/blas-matmul/fused_decode.c: the same operations in the same
 * order, with V8's exp, so the same bits; the fused decoder's attention), several times faster.
 */
function decodeAttention(args: {
  inputs: tf.NamedTensorInfoMap;
  backend: unknown;
  attrs?: tf.NamedAttrMap;
}): tf.TensorInfo {
  const { q, keys, values, mask } = args.inputs as Record<string, tf.TensorInfo>;
  const heads = (args.attrs as { heads: number }).heads;
  const backend = args.backend as WasmHeapBackend;
  const [batch, s, d] = keys.shape;
  const n = q.shape[0] / batch;
  const dh = d / heads;
  const scale = 1 / Math.sqrt(dh);
  const out = backend.makeOutput([batch * n, d], 'float32');
  const addon = blasAddon();
  if (addon) {
    const memory = args.backend as WasmMemoryBackend;
    const offset = (t: tf.TensorInfo) => memory.dataIdMap.get(t.dataId).memoryOffset;
    // The heap is read after makeOutput: growing the wasm memory replaces its ArrayBuffer.
    // prettier-ignore
    addon.attention(memory.wasm.HEAPU8.buffer as ArrayBuffer, offset(q), offset(keys), offset(values), offset(mask),
      offset(out), batch, n, s, d, heads);
    return out;
  }
  const [qs, ks, vs, ms, os] = [q, keys, values, mask, out].map(
    (t) => backend.typedArrayFromHeap(t) as Float32Array,
  );
  const scores = new Float64Array(s);
  const acc = new Float64Array(dh);
  for (let b = 0; b < batch; b++)
    for (let t = 0; t < n; t++) {
      const qRow = (b * n + t) * d;
      const maskRow = (b * n + t) * s;
      for (let h = 0; h < heads; h++) {
        const qo = qRow + h * dh;
        let max = -Infinity;
        for (let j = 0; j < s; j++) {
          const ko = (b * s + j) * d + h * dh;
          let dot = 0;
          for (let c = 0; c < dh; c++) dot += qs[qo + c] * ks[ko + c];
          const score = dot * scale + ms[maskRow + j];
          scores[j] = score;
          if (score > max) max = score;
        }
        let total = 0;
        for (let j = 0; j < s; j++) {
          const e = Math.exp(scores[j] - max);
          scores[j] = e;
          total += e;
        }
        acc.fill(0);
        for (let j = 0; j < s; j++) {
          const p = scores[j] / total;
          const vo = (b * s + j) * d + h * dh;
          for (let c = 0; c < dh; c++) acc[c] += p * vs[vo + c];
        }
        for (let c = 0; c < dh; c++) os[qo + c] = acc[c];
      }
    }
  return out;
}

let registered = false;

export function registerWasmDecodeAttentionKernel(): void {
  if (registered) return;
  tf.registerKernel({
    kernelName: DECODE_ATTENTION_KERNEL,
    backendName: 'wasm',
    kernelFunc: decodeAttention,
  });
  registered = true;
}
