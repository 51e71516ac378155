import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { registerWasmDecodeAttentionKernel } from './wasm-decode-attention-kernel';
import { registerWasmGeluKernel } from './wasm-gelu-kernel';
import { registerWasmLayerNormKernels } from './wasm-layer-norm-kernel';
import { registerWasmSliceKernel } from './wasm-slice-kernel';
import { registerWasmTransposeKernel } from './wasm-transpose-kernel';

export type BackendName = 'tensorflow-gpu' | 'tensorflow' | 'wasm' | 'cpu';
export const BACKEND_ORDER: readonly BackendName[] = ['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'];

/** What a run records about the numeric backend: replay must run on the same one to be bit-exact. */
export interface BackendInfo {
  name: BackendName;
  /** The tfjs backend id (`tensorflow` for both native packages). */
  tfjsBackend: string;
  simd?: boolean;
  threads?: number;
  /** Why each earlier candidate was skipped. */
  skipped: { name: BackendName; reason: string }[];
}

type Loader = () => Promise<Omit<BackendInfo, 'name' | 'skipped'>>;

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
  wasm: async () => {
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
  },
  cpu: async () => {
    if (!(await tf.setBackend('cpu'))) throw new Error('the cpu backend did not start');
    return { tfjsBackend: 'cpu' };
  },
};

function describe(error: unknown): string {
  const message = (error as Error)?.message ?? String(error);
  return /Cannot find module/.test(message) ? 'not installed' : message.split('\n')[0];
}

/**
 * Chooses the numeric backend at start-up: the first of tensorflow-gpu, tensorflow, wasm, cpu that
 * loads (or exactly `preferred`, failing loudly if it cannot), and reports what it skipped and why.
 */
let active: BackendInfo | null = null;

/** The backend chosen by the last successful `selectBackend` in this process, if any. */
export function activeBackend(): BackendInfo | null {
  return active && tf.getBackend() === active.tfjsBackend ? active : null;
}

export async function selectBackend(preferred: BackendName | 'auto' = 'auto'): Promise<BackendInfo> {
  const candidates = preferred === 'auto' ? BACKEND_ORDER : [preferred];
  const skipped: BackendInfo['skipped'] = [];
  for (const name of candidates) {
    try {
      const info = await LOADERS[name]();
      await tf.ready();
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
