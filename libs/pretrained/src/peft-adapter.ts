import * as tf from '@tensorflow/tfjs-core';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readJsonFile } from './checkpoint-dir';
import type { LoraSettings } from './lora-settings';
import type { PretrainedCausalLM } from './pretrained-model';
import { type FloatTensor, readSafetensors, writeSafetensors } from './safetensors';

export const ADAPTER_CONFIG = 'adapter_config.json';
export const ADAPTER_WEIGHTS = 'adapter_model.safetensors';

/*
 * PEFT's on-disk LoRA format, which vLLM (--enable-lora) and transformers/PEFT load: adapter_config.json
 * plus adapter_model.safetensors whose names are the module path under `base_model.model.` with the
 * adapter name dropped, lora_A.weight [r, in] and lora_B.weight [out, r] (nn.Linear layout). The merged
 * weight is W + B A * alpha / r. Ours are stored [in, r] and [r, out], hence the transposes.
 */
const PREFIX = 'base_model.model.';

function transpose2d({ shape, values }: FloatTensor): FloatTensor {
  const [rows, cols] = shape;
  const out = new Float32Array(values.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = values[r * cols + c];
  return { shape: [cols, rows], values: out };
}

/** PEFT's tensor name for one of our adapter weights (`<module>.lora_A` -> `base_model.model.<module>.lora_A.weight`). */
export function peftTensorName(ours: string): string {
  return `${PREFIX}${ours}.weight`;
}

export interface ExportOptions {
  /** What adapter_config.json names as the base (a hub id or a path); PEFT and vLLM only record it. */
  baseModel?: string;
}

/** Writes the model's LoRA adapters in PEFT's format into `dir` (created if missing). */
export function savePeftAdapter(model: PretrainedCausalLM, dir: string, options: ExportOptions = {}): void {
  const lora = model.lora;
  if (!lora) throw new Error('savePeftAdapter: the model has no LoRA adapters');
  fs.mkdirSync(dir, { recursive: true });
  const tensors = new Map<string, FloatTensor>();
  for (const [name, weight] of model.namedWeights())
    tensors.set(
      peftTensorName(name),
      transpose2d({ shape: weight.shape, values: weight.dataSync() as Float32Array }),
    );
  writeSafetensors(path.join(dir, ADAPTER_WEIGHTS), tensors);
  fs.writeFileSync(
    path.join(dir, ADAPTER_CONFIG),
    `${JSON.stringify(adapterConfig(lora, options), null, 2)}\n`,
  );
}

function adapterConfig(lora: LoraSettings, options: ExportOptions): Record<string, unknown> {
  return {
    peft_type: 'LORA',
    task_type: 'CAUSAL_LM',
    base_model_name_or_path: options.baseModel ?? null,
    r: lora.rank,
    lora_alpha: lora.alpha,
    lora_dropout: lora.dropout,
    target_modules: [...lora.targets],
    bias: 'none',
    fan_in_fan_out: false,
    use_rslora: false,
    use_dora: false,
    init_lora_weights: true,
    inference_mode: true,
    modules_to_save: null,
    layers_to_transform: null,
    layers_pattern: null,
    rank_pattern: {},
    alpha_pattern: {},
  };
}

/**
 * Loads a PEFT LoRA adapter into the model's adapters. The adapter's rank, alpha and targets must be the
 * model's (load the base with the adapter's LoRA settings); every adapter weight must be present.
 */
export function loadPeftAdapter(model: PretrainedCausalLM, dir: string): void {
  const configFile = path.join(dir, ADAPTER_CONFIG);
  const config = readJsonFile(configFile) as Record<string, unknown>;
  const lora = model.lora;
  if (!lora) throw new Error('loadPeftAdapter: load the base model with LoRA settings first');
  const targets = Array.isArray(config.target_modules)
    ? [...config.target_modules].sort()
    : config.target_modules;
  const mismatch = [
    ['r', config.r, lora.rank],
    ['lora_alpha', config.lora_alpha, lora.alpha],
    ['target_modules', JSON.stringify(targets), JSON.stringify([...lora.targets].sort())],
  ].find(([, theirs, ours]) => theirs !== ours);
  if (config.peft_type !== 'LORA')
    throw new Error(`${configFile}: peft_type ${String(config.peft_type)} is not LORA`);
  if (mismatch)
    throw new Error(
      `${configFile}: ${mismatch[0]} is ${String(mismatch[1])}, the model's LoRA has ${String(mismatch[2])}`,
    );
  const file = path.join(dir, ADAPTER_WEIGHTS);
  const names = [...model.namedWeights().keys()];
  const tensors = readSafetensors(file, names.map(peftTensorName));
  for (const name of names) {
    const weight = model.namedWeights().get(name)!;
    const { shape, values } = transpose2d(tensors.get(peftTensorName(name))!);
    if (shape.join() !== weight.shape.join())
      throw new Error(
        `${file}: ${peftTensorName(name)} has shape [${[...shape].reverse()}], expected [${[...weight.shape].reverse()}]`,
      );
    const value = tf.tensor(values, shape);
    weight.assign(value);
    value.dispose();
  }
}
