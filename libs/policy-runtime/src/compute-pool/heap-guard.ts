import * as tf from '@tensorflow/tfjs-core';
import {
  activeBackend,
  backendMemoryLimit,
  formatBytes,
  generationBytes,
  trainingPassBytes,
  type TransformerConfig,
} from '@recon/policy';

/**
 * Refuses, with an error naming it, a pass whose estimated peak heap exceeds the worker's backend limit:
 * past it the wasm instance aborts, and every later request to the worker would fail with it. `recon run`
 * refuses such configs up front (apps/cli/src/run/check-experiment.ts); this catches what it cannot see.
 */
function refuseOverLimit(what: string, needed: number, lower: string): void {
  const backend = activeBackend();
  const limit = backend ? backendMemoryLimit(backend.name) : null;
  if (!backend || limit === null || needed <= limit) return;
  throw new Error(
    `${what} would need about ${formatBytes(needed)} of the ${backend.name} backend's heap, whose limit is ${formatBytes(limit)}: ${lower}`,
  );
}

/** Before a training pass of `rows` sequences padded to `length` tokens. */
export function checkTrainingPass(
  what: string,
  model: TransformerConfig,
  pass: { rows: number; length: number; grpo?: boolean },
): void {
  const openblas = activeBackend()?.name === 'wasm-openblas';
  refuseOverLimit(
    `${what} (${pass.rows} sequences of ${pass.length} tokens)`,
    trainingPassBytes(model, { ...pass, openblas }),
    'lower the batch (or raise its gradientAccumulation) or the context',
  );
}

/** Before a generation batch. */
export function checkGeneration(
  model: TransformerConfig,
  shape: { rows: number; promptLength: number; maxTokens: number },
): void {
  const length = Math.min(model.context, shape.promptLength + shape.maxTokens);
  refuseOverLimit(
    `generation of ${shape.rows} completions (prompts up to ${shape.promptLength} tokens, up to ${length} in all)`,
    generationBytes(model, { rows: shape.rows, promptLength: shape.promptLength, length }),
    'sample fewer completions at once or shorter ones',
  );
}

/** What a worker says when its wasm instance ended (an abort, an access out of bounds): it is unusable after. */
export function wasmFailure(error: unknown): string | null {
  // WebAssembly.RuntimeError: what an emscripten abort throws, and what a trap (out of bounds) is.
  if (!(error instanceof Error) || error.name !== 'RuntimeError') return null;
  let heap = '';
  if (tf.getBackend() === 'wasm') {
    const bytes = (tf.backend() as unknown as { wasm: { HEAPU8: Uint8Array } }).wasm.HEAPU8.length;
    heap = ` with its heap at ${formatBytes(bytes)}`;
  }
  return `the wasm backend failed${heap} (${error.message.split('\n')[0]})`;
}
