import type { ExperimentConfig } from '@recon/experiment';
import {
  backendMemoryLimit,
  blasUnavailableReason,
  formatBytes,
  generationBytes,
  trainingPassBytes,
  type BackendName,
  type ModelShape,
} from '@recon/policy';
import { GENERATION_SPLIT, GRPO_MICRO_BATCH_SPLIT, SFT_MICRO_BATCH_SPLIT } from '@recon/policy-runtime';
import type { ConfigProblem } from './check-experiment';

/** Whether a native TensorFlow package is installed (then `auto` takes it, and it has no wasm heap limit). */
function nativeTensorflowInstalled(): boolean {
  for (const pkg of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'])
    try {
      require.resolve(pkg);
      return true;
    } catch {
      // not installed
    }
  return false;
}

/** Where `auto` would end here: a native TensorFlow package, else wasm-openblas when its addon loads, else wasm. */
export interface AutoBackendProbe {
  nativeInstalled: () => boolean;
  blasLoads: () => boolean;
}

const MACHINE: AutoBackendProbe = {
  nativeInstalled: nativeTensorflowInstalled,
  blasLoads: () => blasUnavailableReason() === null,
};

/** The backend whose heap limit the run would meet, or null when it would run on one without such a limit. */
function limitedBackend(
  policy: { backend: BackendName | 'auto' },
  probe: AutoBackendProbe,
): BackendName | null {
  if (policy.backend === 'auto') {
    if (probe.nativeInstalled()) return null;
    return probe.blasLoads() ? 'wasm-openblas' : 'wasm';
  }
  return backendMemoryLimit(policy.backend) === null ? null : policy.backend;
}

/**
 * Training passes and generation batches of a built-in policy that could not fit the wasm heap (4 GB; past
 * it the backend aborts mid-run), estimated at their worst case: every sequence as long as
 * policy.contextLength. Each names the keys that set the pass's size and what to lower.
 */
export function memoryProblems(config: ExperimentConfig, probe: AutoBackendProbe = MACHINE): ConfigProblem[] {
  const policy = config.policy;
  if (policy.kind !== 'builtin') return [];
  const backend = limitedBackend(policy, probe);
  const limit = backend ? backendMemoryLimit(backend) : null;
  if (!backend || limit === null) return [];
  const model: ModelShape = {
    vocabSize: config.tokenizer.vocabSize,
    dModel: policy.dModel,
    layers: policy.nLayers,
    heads: policy.nHeads,
  };
  const context = policy.contextLength;
  const openblas = backend === 'wasm-openblas';
  const needs = (bytes: number) =>
    `needs about ${formatBytes(bytes)} of the ${backend} backend's heap, whose limit is ${formatBytes(limit)}`;
  const problems: ConfigProblem[] = [];
  if (config.sft) {
    const rows = Math.ceil(config.sft.batchSize / SFT_MICRO_BATCH_SPLIT);
    const bytes = trainingPassBytes(model, { rows, length: context, openblas });
    if (bytes > limit)
      problems.push({
        key: 'sft.batchSize',
        reason:
          `${config.sft.batchSize} at policy.contextLength ${context}: a pass over ${rows} sequences of up to ${context} tokens ${needs(bytes)}; ` +
          'lower sft.batchSize (raise sft.gradientAccumulation to keep the step size) or policy.contextLength',
      });
  }
  if (config.grpo) {
    const grpo = config.grpo;
    const completions = grpo.promptsPerStep * grpo.numGenerations;
    const rows = Math.ceil(Math.ceil(completions / grpo.gradientAccumulation) / GRPO_MICRO_BATCH_SPLIT);
    const bytes = trainingPassBytes(model, { rows, length: context, openblas, grpo: true });
    if (bytes > limit)
      problems.push({
        key: 'grpo.gradientAccumulation',
        reason:
          `${grpo.gradientAccumulation} micro-batches of grpo.promptsPerStep x grpo.numGenerations = ${completions} completions at policy.contextLength ${context}: ` +
          `a pass over ${rows} sequences of prompt + completion up to ${context} tokens ${needs(bytes)}; ` +
          'raise grpo.gradientAccumulation, or lower grpo.promptsPerStep, grpo.numGenerations or policy.contextLength',
      });
    const maxTokens = Math.min(grpo.maxCompletionTokens, context - 2);
    const shardCompletions = Math.ceil(grpo.promptsPerStep / grpo.rolloutShards) * grpo.numGenerations;
    const generationRows = Math.ceil(shardCompletions / GENERATION_SPLIT);
    const generation = generationBytes(model, {
      rows: generationRows,
      promptLength: context - maxTokens,
      length: context,
    });
    if (generation > limit)
      problems.push({
        key: 'grpo.rolloutShards',
        reason:
          `${grpo.rolloutShards}: a rollout batch of ${generationRows} completions of up to ${context} tokens ${needs(generation)}; ` +
          'raise grpo.rolloutShards, or lower grpo.promptsPerStep, grpo.numGenerations or policy.contextLength',
      });
  }
  return problems;
}

/**
 * A pretrained checkpoint whose float32 weights alone (4 bytes per parameter, whatever the file's dtype)
 * exceed the wasm heap: loading it would abort the backend, so the run is refused before anything is
 * recorded. Activations, adapters and the KV cache come on top of this lower bound.
 */
export function pretrainedMemoryProblems(
  policy: Extract<ExperimentConfig['policy'], { kind: 'pretrained' }>,
  parameters: number,
  probe: AutoBackendProbe = MACHINE,
): ConfigProblem[] {
  const backend = limitedBackend(policy, probe);
  const limit = backend ? backendMemoryLimit(backend) : null;
  const bytes = 4 * parameters;
  if (!backend || limit === null || bytes <= limit) return [];
  return [
    {
      key: 'policy.backend',
      reason:
        `${policy.backend}${policy.backend === 'auto' ? ` (here: ${backend})` : ''}: the checkpoint's ${(parameters / 1e9).toFixed(2)}B parameters ` +
        `need ${formatBytes(bytes)} in float32 before any activation, above the ${backend} backend's heap limit of ${formatBytes(limit)}; ` +
        'use backend tensorflow-gpu or tensorflow (npm install @tensorflow/tfjs-node-gpu or @tensorflow/tfjs-node) or a smaller checkpoint',
    },
  ];
}
