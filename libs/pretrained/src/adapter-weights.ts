import { decodeCheckpoint } from '@recon/policy';
import type { PretrainedSource } from './adapter-checkpoint';
import { type LoraSettings, loraSettingsSchema } from './lora-settings';
import type { PretrainedCausalLM } from './pretrained-model';

/** LoRA adapters in our layout: `<module>.lora_A` [in, r] and `<module>.lora_B` [r, out], float32. */
export interface LoraAdapters {
  lora: LoraSettings;
  weights: ReadonlyMap<string, { shape: readonly number[]; values: Float32Array }>;
}

/**
 * The adapters an adapter checkpoint stores, without loading the base: refused when the checkpoint names
 * another base than the run recorded. The names and shapes are checked against the base where they are used.
 */
export function readAdapterCheckpoint(
  source: Pick<PretrainedSource, 'sha256'>,
  bytes: Uint8Array,
  checkpointHash: string,
): LoraAdapters {
  const decoded = decodeCheckpoint(bytes, checkpointHash);
  const config = decoded.config as { pretrained?: { sha256?: unknown }; lora?: unknown } | null;
  if (config?.pretrained?.sha256 !== source.sha256)
    throw new Error(
      `checkpoint ${checkpointHash}: its adapters belong to base ${String(config?.pretrained?.sha256).slice(0, 12)}…, the run recorded ${source.sha256.slice(0, 12)}…`,
    );
  const lora = loraSettingsSchema.safeParse(config.lora);
  if (!lora.success) throw new Error(`checkpoint ${checkpointHash}: its LoRA settings do not parse`);
  return { lora: lora.data, weights: decoded.weights };
}

/** A loaded model's adapters, copied out of their tensors. */
export function adaptersOf(model: PretrainedCausalLM): LoraAdapters {
  if (!model.lora) throw new Error('the model has no LoRA adapters');
  const weights = new Map<string, { shape: number[]; values: Float32Array }>();
  for (const [name, weight] of model.namedWeights())
    weights.set(name, { shape: [...weight.shape], values: (weight.dataSync() as Float32Array).slice() });
  return { lora: model.lora, weights };
}
