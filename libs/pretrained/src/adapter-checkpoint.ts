import * as tf from '@tensorflow/tfjs-core';
import { decodeCheckpoint, encodeCheckpoint, type TrainerState } from '@recon/policy';
import { assertSameCheckpoint, type CheckpointContent } from './checkpoint-dir';
import { loadPretrained, type LoadedCheckpoint } from './load-pretrained';
import { type LoraSettings, loraSettingsSchema } from './lora-settings';
import type { PretrainedCausalLM } from './pretrained-model';

/** The checkpoint directory a run recorded (policy.source.resolved). */
export interface PretrainedSource extends CheckpointContent {
  path: string;
}

/** What an adapter checkpoint's header says about the model it belongs to. */
export interface AdapterCheckpointConfig {
  pretrained: { sha256: string; architecture: string };
  lora: LoraSettings;
  context: number;
  backend: string;
}

const EMPTY_TRAINER: TrainerState = { step: 0, optimizer: { step: 0, moments: {} } };

/**
 * A run checkpoint of a pretrained policy: the LoRA adapters (and the trainer's state) only, in the
 * platform's checkpoint format, its header naming the base by content hash. The base weights stay in
 * the directory the run recorded.
 */
export function encodeAdapterCheckpoint(
  model: PretrainedCausalLM,
  options: { sourceSha256: string; backend: string; tokenizerHash: string; trainer?: TrainerState },
): { bytes: Uint8Array; hash: string } {
  if (!model.lora) throw new Error('an adapter checkpoint needs a model with LoRA adapters');
  const config: AdapterCheckpointConfig = {
    pretrained: { sha256: options.sourceSha256, architecture: model.spec.architecture },
    lora: model.lora,
    context: model.config.context,
    backend: options.backend,
  };
  return encodeCheckpoint({
    config,
    tokenizerHash: options.tokenizerHash,
    weights: model.namedWeights(),
    trainer: options.trainer ?? EMPTY_TRAINER,
  });
}

/**
 * Loads the recorded checkpoint directory (refused, naming the files, when it differs from what the run
 * recorded) with the adapters of an adapter checkpoint.
 */
export function loadAdapterCheckpoint(
  source: PretrainedSource,
  bytes: Uint8Array,
  checkpointHash: string,
): LoadedCheckpoint & { trainer: TrainerState; config: AdapterCheckpointConfig } {
  const decoded = decodeAdapterCheckpoint(source, bytes, checkpointHash);
  assertSameCheckpoint(source.path, source);
  const loaded = loadPretrained(source.path, { lora: decoded.config.lora, context: decoded.config.context });
  try {
    assignAdapters(loaded.model, decoded, checkpointHash);
  } catch (error) {
    loaded.model.dispose();
    throw error;
  }
  return { ...loaded, trainer: decoded.trainer, config: decoded.config };
}

/**
 * Puts an adapter checkpoint's adapters into a model already loaded from the same base (a rollout service
 * moves from one GRPO step's adapters to the next without reading the base weights again). The model's
 * LoRA settings and context must be the checkpoint's.
 */
export function applyAdapterCheckpoint(
  model: PretrainedCausalLM,
  source: PretrainedSource,
  bytes: Uint8Array,
  checkpointHash: string,
): { trainer: TrainerState; config: AdapterCheckpointConfig } {
  const decoded = decodeAdapterCheckpoint(source, bytes, checkpointHash);
  const { lora, context } = decoded.config;
  if (JSON.stringify(model.lora) !== JSON.stringify(lora) || model.config.context !== context)
    throw new Error(
      `checkpoint ${checkpointHash}: its LoRA settings or context (${context}) differ from the loaded model's`,
    );
  assignAdapters(model, decoded, checkpointHash);
  return { trainer: decoded.trainer, config: decoded.config };
}

function decodeAdapterCheckpoint(source: PretrainedSource, bytes: Uint8Array, checkpointHash: string) {
  const decoded = decodeCheckpoint(bytes, checkpointHash);
  const config = decoded.config as AdapterCheckpointConfig;
  if (config?.pretrained?.sha256 !== source.sha256)
    throw new Error(
      `checkpoint ${checkpointHash}: its adapters belong to base ${String(config?.pretrained?.sha256).slice(0, 12)}…, the run recorded ${source.sha256.slice(0, 12)}…`,
    );
  return { ...decoded, config: { ...config, lora: loraSettingsSchema.parse(config.lora) } };
}

function assignAdapters(
  model: PretrainedCausalLM,
  decoded: ReturnType<typeof decodeCheckpoint>,
  checkpointHash: string,
): void {
  const named = model.namedWeights();
  for (const [name, { shape, values }] of decoded.weights) {
    const variable = named.get(name);
    if (!variable || variable.shape.join() !== shape.join())
      throw new Error(`checkpoint ${checkpointHash}: adapter ${name} [${shape}] does not fit the model`);
    tf.tidy(() => variable.assign(tf.tensor(values, shape, 'float32')));
  }
  for (const name of named.keys())
    if (!decoded.weights.has(name))
      throw new Error(`checkpoint ${checkpointHash}: no stored adapter ${name}`);
}
