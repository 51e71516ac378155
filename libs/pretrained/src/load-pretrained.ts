import * as tf from '@tensorflow/tfjs-core';
import * as path from 'node:path';
import { readJsonFile, weightFiles } from './checkpoint-dir';
import { type ModelSpec, parseHfConfig } from './hf-config';
import {
  type LoraSettings,
  type LoraSettingsInput,
  loraSettingsSchema,
  PROJECTION_NAMES,
} from './lora-settings';
import { hasBias, PretrainedCausalLM, projectionPath, projectionShape } from './pretrained-model';
import { readSafetensors, readSafetensorsHeader } from './safetensors';

/** Every base tensor the spec needs, with its shape in the file (HF layout: Linear weights are [out, in]). */
export function expectedTensors(spec: ModelSpec): Map<string, number[]> {
  const expected = new Map<string, number[]>();
  expected.set('model.embed_tokens.weight', [spec.vocabSize, spec.hidden]);
  for (let layer = 0; layer < spec.layers; layer++) {
    const p = `model.layers.${layer}`;
    expected.set(`${p}.input_layernorm.weight`, [spec.hidden]);
    expected.set(`${p}.post_attention_layernorm.weight`, [spec.hidden]);
    for (const projection of PROJECTION_NAMES) {
      const [din, dout] = projectionShape(spec, projection);
      const name = projectionPath(layer, projection);
      expected.set(`${name}.weight`, [dout, din]);
      if (hasBias(spec, projection)) expected.set(`${name}.bias`, [dout]);
    }
  }
  expected.set('model.norm.weight', [spec.hidden]);
  if (!spec.tieEmbeddings) expected.set('lm_head.weight', [spec.vocabSize, spec.hidden]);
  return expected;
}

/** Parameters of the base model config.json describes (what loading it holds: 4 bytes each in float32). */
export function parameterCount(spec: ModelSpec): number {
  let count = 0;
  for (const shape of expectedTensors(spec).values()) count += shape.reduce((a, b) => a * b, 1);
  return count;
}

/** [rows, cols] row-major -> [cols, rows] row-major. */
function transposed(values: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(values.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = values[r * cols + c];
  return out;
}

export interface LoadOptions {
  lora?: LoraSettingsInput;
  /** Seed of the LoRA A initialisation. */
  seed?: number;
  /** Longest sequence to run (defaults to max_position_embeddings). */
  context?: number;
}

export interface LoadedCheckpoint {
  model: PretrainedCausalLM;
  spec: ModelSpec;
  lora?: LoraSettings;
}

/**
 * Loads a Hugging Face Llama/Qwen2 checkpoint directory (config.json plus model.safetensors, or shards
 * named by model.safetensors.index.json) into float32 tfjs tensors: bf16 and fp16 weights are widened to
 * float32 on load, so memory is 4 bytes per parameter whatever the file's dtype.
 */
export function loadPretrained(dir: string, options: LoadOptions = {}): LoadedCheckpoint {
  const spec = parseHfConfig(readJsonFile(path.join(dir, 'config.json')), path.join(dir, 'config.json'));
  const lora = options.lora === undefined ? undefined : parseLora(options.lora);
  const { files, fileOf } = weightFiles(dir);
  const expected = expectedTensors(spec);
  // Where each tensor is, checked (presence, shape) before any data is read.
  const located = new Map<string, string>();
  const headers = new Map(files.map((f) => [f, readSafetensorsHeader(f)]));
  for (const [name, shape] of expected) {
    const file = fileOf ? fileOf.get(name) : files[0];
    const entry = file ? headers.get(file)?.tensors.get(name) : undefined;
    if (!file || !entry)
      throw new Error(
        `${dir}: checkpoint has no tensor ${name} (config.json describes a ${spec.architecture} with ${spec.layers} layers)`,
      );
    if (entry.shape.join() !== shape.join())
      throw new Error(`${file}: tensor ${name} has shape [${entry.shape}], config.json implies [${shape}]`);
    located.set(name, file);
  }
  const base = new Map<string, tf.Tensor>();
  try {
    for (const file of files) {
      const names = [...located].filter(([, f]) => f === file).map(([n]) => n);
      for (const [name, { shape, values }] of readSafetensors(file, names)) {
        const linear =
          shape.length === 2 && name !== 'model.embed_tokens.weight' && name !== 'lm_head.weight';
        base.set(
          name,
          linear
            ? tf.tensor2d(transposed(values, shape[0], shape[1]), [shape[1], shape[0]])
            : tf.tensor(values, shape),
        );
      }
    }
  } catch (error) {
    tf.dispose([...base.values()]);
    throw error;
  }
  const context = options.context ?? spec.maxPositions;
  return { model: new PretrainedCausalLM(spec, base, lora, options.seed ?? 0, context), spec, lora };
}

export function parseLora(input: LoraSettingsInput): LoraSettings {
  const result = loraSettingsSchema.safeParse(input);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new Error(`lora: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  return result.data;
}
