import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { readEnvironment } from '@recon/config';

/** The Node-API addon built from native/blas-matmul (see its blas_matmul.c for the argument contract). */
export interface BlasAddon {
  load(coretype: string, library: string): BlasLibraryInfo;
  setThreads(threads: number): void;
  info(): BlasLibraryInfo;
  gemm(
    heap: ArrayBuffer,
    transposeA: boolean,
    transposeB: boolean,
    batch: number,
    m: number,
    n: number,
    k: number,
    aByteOffset: number,
    lda: number,
    aStride: number,
    bByteOffset: number,
    ldb: number,
    bStride: number,
    cByteOffset: number,
    ldc: number,
    cStride: number,
    biasByteOffset: number,
  ): void;
  /**
   * One fused decoding step (native/blas-matmul/fused_decode.c): n new tokens per sequence (ids and
   * positions [batch, n], mask [batch, 1, n, cacheLength + n]) through every layer and the head, keys and
   * values appended to `cache`, logits [batch, vocab] written into `logits`. The weights are read on the
   * heap at their byte offsets.
   */
  decodeStep(
    heap: ArrayBuffer,
    weightByteOffsets: Float64Array,
    dims: Int32Array,
    loraScale: number,
    cache: KvHandle,
    cacheLength: number,
    ids: Int32Array,
    positions: Int32Array,
    mask: Float32Array,
    n: number,
    logits: Float32Array,
  ): void;
  /** An empty KV cache held by the addon (freed by kvFree, or when the handle is collected). */
  kvCreate(batch: number, layers: number, dModel: number, heads: number, chunkPositions: number): KvHandle;
  kvFree(cache: KvHandle): void;
  kvLength(cache: KvHandle): number;
  /** Copies keys and values [batch, length, dModel] per layer (offsets: keys 2l, values 2l + 1) into an empty cache. */
  kvImport(cache: KvHandle, heap: ArrayBuffer, byteOffsets: Float64Array, length: number): void;
  /** Writes the first `length` positions of the cache into such tensors. */
  kvExport(cache: KvHandle, heap: ArrayBuffer, byteOffsets: Float64Array, length: number): void;
  /**
   * The decode attention kernel's values (queries [batch*n, dModel] over keys and values [batch, s, dModel],
   * mask [batch, 1, n, s]) computed by the fused decoder's attention, into out [batch*n, dModel].
   */
  attention(
    heap: ArrayBuffer,
    qByteOffset: number,
    keysByteOffset: number,
    valuesByteOffset: number,
    maskByteOffset: number,
    outByteOffset: number,
    batch: number,
    n: number,
    s: number,
    dModel: number,
    heads: number,
  ): void;
  /** The LayerNorm kernel's forward values (x, y, xhat [rows, d]; gain, bias [d]; rstd [rows]), by the addon. */
  layerNorm(
    x: Float32Array,
    gain: Float32Array,
    bias: Float32Array,
    epsilon: number,
    y: Float32Array,
    xhat: Float32Array,
    rstd: Float32Array,
  ): void;
  /** Math.exp as the fused decoder computes it, in place. */
  exp(values: Float64Array): void;
}

/** A KV cache held by the addon: opaque to JS (an N-API external). */
export interface KvHandle {
  readonly __kvHandle: never;
}

interface BlasLibraryInfo {
  threads: number;
  corename: string;
  config: string;
}

/** The loaded OpenBLAS as a run records it: `kernels` (version and pinned kernel family) and threads. */
export interface BlasInfo {
  addon: BlasAddon;
  /** e.g. `OpenBLAS 0.3.21 SkylakeX`: the results of a run depend on both. */
  kernels: string;
  threads: number;
}

const ADDON = path.join('native', 'blas-matmul', 'build', 'blas_matmul.node');
/**
 * One OpenBLAS thread: both cores are used by the compute pool's two workers (one replica each), and two
 * BLAS threads per worker measured twice the CPU per SFT step on 2 cores (bench/README.md).
 */
export const DEFAULT_BLAS_THREADS = 1;

/** native/blas-matmul/build/blas_matmul.node, found upwards from this file (libs/… or dist/libs/…). */
function addonPath(): string | null {
  const override = readEnvironment('RECON_BLAS_ADDON');
  if (override) return existsSync(override) ? override : null;
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, ADDON);
    if (existsSync(candidate)) return candidate;
    if (path.dirname(dir) === dir) return null;
  }
}

/**
 * Loads the OpenBLAS matmul addon, or throws a one-line reason: disabled (RECON_BLAS=off), not built,
 * OpenBLAS missing, or not the kernels `want` asks for (a replay must run on the recorded ones).
 * Kernel family: `want.kernels`, else OPENBLAS_CORETYPE, else the addon's default for this CPU.
 * Threads: `want.threads`, else RECON_BLAS_THREADS, else 1.
 */
export function loadBlas(want: { kernels?: string; threads?: number } = {}): BlasInfo {
  if (/^(off|0|false|no)$/i.test(readEnvironment('RECON_BLAS') ?? ''))
    throw new Error('disabled by RECON_BLAS=off');
  const file = addonPath();
  if (!file)
    throw new Error(
      `the addon is not built (${readEnvironment('RECON_BLAS_ADDON') ?? ADDON}; npm run setup builds it)`,
    );
  const [version, coretype] = want.kernels ? splitKernels(want.kernels) : [undefined, undefined];
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const addon = require(file) as BlasAddon;
  const wantedCore = coretype ?? readEnvironment('OPENBLAS_CORETYPE') ?? '';
  const info = addon.load(wantedCore, readEnvironment('RECON_OPENBLAS_LIB') ?? '');
  const loadedVersion = info.config.split(' ').slice(0, 2).join(' ');
  if (wantedCore && info.corename.toLowerCase() !== wantedCore.toLowerCase())
    throw new Error(`OpenBLAS could not pin its ${wantedCore} kernels (it chose ${info.corename})`);
  if (version && version !== loadedVersion)
    throw new Error(`the run used ${want.kernels}, this machine has ${loadedVersion} ${info.corename}`);
  const threads = want.threads ?? readEnvironment('RECON_BLAS_THREADS') ?? DEFAULT_BLAS_THREADS;
  addon.setThreads(threads);
  return { addon, kernels: `${loadedVersion} ${info.corename}`, threads: addon.info().threads };
}

/** `OpenBLAS 0.3.21 SkylakeX` -> ['OpenBLAS 0.3.21', 'SkylakeX']. */
function splitKernels(kernels: string): [string, string] {
  const parts = kernels.trim().split(/\s+/);
  if (parts.length !== 3 || parts[0] !== 'OpenBLAS')
    throw new Error(`unrecognised BLAS kernels '${kernels}' (expected e.g. 'OpenBLAS 0.3.21 SkylakeX')`);
  return [parts.slice(0, 2).join(' '), parts[2]];
}

/** Why `loadBlas()` fails here, or null when it loads (tests skip the OpenBLAS cases with this reason). */
export function blasUnavailableReason(): string | null {
  try {
    loadBlas();
    return null;
  } catch (error) {
    return (error as Error).message;
  }
}
