import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { loadBlas } from './blas-addon';
import { registerWasmHeadMatMulKernel } from './wasm-blas-head-matmul-kernel';
import { setWasmBlas } from './wasm-blas-matmul-kernel';
import { registerWasmDecodeAttentionKernel } from './wasm-decode-attention-kernel';
import { registerFusedDecodeKernel } from './wasm-fused-decode';
import { registerWasmGeluKernel } from './wasm-gelu-kernel';
import { registerWasmLayerNormKernels } from './wasm-layer-norm-kernel';
import { registerWasmSliceKernel } from './wasm-slice-kernel';
import { registerWasmTransposeKernel } from './wasm-transpose-kernel';

/** `wasm-openblas`: the wasm backend with its matmuls on OpenBLAS (native/blas-matmul); `wasm`: XNNPACK. */
export type BackendName = 'tensorflow-gpu' | 'tensorflow' | 'wasm-openblas' | 'wasm' | 'cpu';
export const BACKEND_ORDER: readonly BackendName[] = [
  'tensorflow-gpu',
  'tensorflow',
  'wasm-openblas',
  'wasm',
  'cpu',
];

/** What a run records about the numeric backend: replay must run on the same one to be bit-exact. */
export interface BackendInfo {
  name: BackendName;
  /** The tfjs backend id (`tensorflow` for both native packages). */
  tfjsBackend: string;
  simd?: boolean;
  threads?: number;
  /** wasm-openblas: OpenBLAS's version and pinned kernel family (e.g. `OpenBLAS 0.3.21 SkylakeX`). */
  blas?: string;
  /** Why each earlier candidate was skipped. */
  skipped: { name: BackendName; reason: string }[];
}

/** What a replay asks of the backend besides its name: the recorded BLAS kernels and thread count. */
export interface BackendRequirement {
  blas?: string;
  threads?: number;
}

type Loader = (requirement: BackendRequirement) => Promise<Omit<BackendInfo, 'name' | 'skipped'>>;

function loadNative(pkg: string): Loader {
  return async () => {
    // Native packages are optional: they download libtensorflow when installed, which fails offline.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    require(pkg);
    if (!(await tf.setBackend('tensorflow')))
      throw new Error(`${pkg} loaded but the tensorflow backend did not start`);
    return { tfjsBackend: 'tensorflow' };
  };
}

const LOADERS: Record<BackendName, Loader> = {
  'tensorflow-gpu': loadNative('@tensorflow/tfjs-node-gpu'),
  tensorflow: loadNative('@tensorflow/tfjs-node'),
  'wasm-openblas': async (requirement) => {
    // Loaded before the wasm backend starts, so a missing addon leaves nothing half set up.
    const blas = loadBlas({ kernels: requirement.blas, threads: requirement.threads });
    const wasm = await startWasm();
    setWasmBlas(blas.addon);
    registerWasmHeadMatMulKernel();
    registerFusedDecodeKernel();
    return { ...wasm, threads: blas.threads, blas: blas.kernels };
  },
  wasm: async () => {
    const wasm = await startWasm();
    setWasmBlas(null);
    return wasm;
  },
  cpu: async () => {
    if (!(await tf.setBackend('cpu'))) throw new Error('the cpu backend did not start');
    return { tfjsBackend: 'cpu' };
  },
};

async function startWasm() {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  require('@tensorflow/tfjs-backend-wasm');
  if (!(await tf.setBackend('wasm'))) throw new Error('the wasm backend did not start');
  registerWasmSliceKernel();
  registerWasmTransposeKernel();
  registerWasmLayerNormKernels();
  registerWasmDecodeAttentionKernel();
  registerWasmGeluKernel();
  const simd = (await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')) as boolean;
  // Under Node tfjs turns wasm threading off (its worker path cannot load there), so one thread.
  return { tfjsBackend: 'wasm', simd, threads: 1 };
}

let noticed = false;

/** One line on stderr (once) when auto-selection could not use the OpenBLAS matmuls. */
function noticeBlasFallback(skipped: BackendInfo['skipped']): void {
  const blas = skipped.find((s) => s.name === 'wasm-openblas');
  if (!blas || noticed || /RECON_BLAS=off/.test(blas.reason)) return;
  noticed = true;
  process.stderr.write(
    `recon: OpenBLAS matmuls unavailable (${blas.reason}); the policy runs on plain wasm\n`,
  );
}

function describe(error: unknown): string {
  const message = (error as Error)?.message ?? String(error);
  return /Cannot find module/.test(message) ? 'not installed' : message.split('\n')[0];
}

let active: BackendInfo | null = null;

/** The backend chosen by the last successful `selectBackend` in this process, if any. */
export function activeBackend(): BackendInfo | null {
  return active && tf.getBackend() === active.tfjsBackend ? active : null;
}

/**
 * Chooses the numeric backend at start-up: the first of tensorflow-gpu, tensorflow, wasm-openblas, wasm,
 * cpu that loads (or exactly `preferred`, failing loudly if it cannot, and then on the BLAS kernels and
 * thread count `requirement` names), and reports what it skipped and why. Asking again for the active
 * backend without a requirement keeps it as it is (a replay selects the recorded one first).
 */
export async function selectBackend(
  preferred: BackendName | 'auto' = 'auto',
  requirement: BackendRequirement = {},
): Promise<BackendInfo> {
  const current = activeBackend();
  if (
    current &&
    current.name === preferred &&
    requirement.blas === undefined &&
    requirement.threads === undefined
  )
    return current;
  const candidates = preferred === 'auto' ? BACKEND_ORDER : [preferred];
  const skipped: BackendInfo['skipped'] = [];
  for (const name of candidates) {
    try {
      const info = await LOADERS[name](preferred === 'auto' ? {} : requirement);
      await tf.ready();
      noticeBlasFallback(skipped);
      active = { name, ...info, skipped };
      return active;
    } catch (error) {
      if (preferred !== 'auto') throw new Error(`backend ${name} is not usable here: ${describe(error)}`);
      skipped.push({ name, reason: describe(error) });
    }
  }
  throw new Error(`no tfjs backend could start: ${skipped.map((s) => `${s.name}: ${s.reason}`).join('; ')}`);
}

export function isBackendName(value: string): value is BackendName {
  return (BACKEND_ORDER as readonly string[]).includes(value);
}
