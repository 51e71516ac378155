import * as fs from 'node:fs';
import * as path from 'node:path';
import type { LoraAdapters } from './adapter-weights';
import { INDEX_FILE, SINGLE_FILE, weightFiles } from './checkpoint-dir';
import { isWeightFile, prepareExportTarget } from './export-target';
import { encodeHalfPrecision } from './half-precision';
import {
  readSafetensors,
  readSafetensorsHeader,
  readTensorBytes,
  type TensorEntry,
  type TensorToWrite,
  writeSafetensorsFile,
} from './safetensors';

/*
 * A Hugging Face checkpoint with the LoRA adapters merged into the base weights, as PEFT's
 * merge_and_unload() gives it: each adapted projection's weight becomes W + B·A·(alpha / r) (PEFT's
 * layout, W [out, in]), every other tensor is the source's. transformers and vLLM load the result as a
 * plain model, without PEFT.
 */

/** `source`: each tensor in its source dtype (merged ones rounded to nearest, ties to even); `float32`: all floats widened. */
export type MergedDtype = 'source' | 'float32';
export const MERGED_DTYPES: readonly MergedDtype[] = ['source', 'float32'];

/** transformers' shard size for `max_shard_size="2GB"` (decimal gigabytes, as it counts them). */
export const DEFAULT_MAX_SHARD_BYTES = 2_000_000_000;

export interface MergedExportOptions {
  dtype?: MergedDtype;
  /** A shard is closed before a tensor would take it past this many data bytes. */
  maxShardBytes?: number;
  /** Write into a non-empty directory (its weight files are removed first). */
  overwrite?: boolean;
}

export interface MergedExport {
  /** The weight files written, in shard order (one model.safetensors when everything fits in one shard). */
  weightFiles: string[];
  /** The source's other files, copied (config.json, tokenizer and generation files, license, ...). */
  copiedFiles: string[];
  /** The tensors an adapter was merged into. */
  mergedTensors: string[];
  /** Data bytes of all tensors (what the index's metadata.total_size says). */
  totalBytes: number;
}

const FLOAT_DTYPES = new Set(['F32', 'F16', 'BF16']);
const BYTES: Record<string, number> = { F32: 4, F16: 2, BF16: 2 };

interface SourceTensor {
  name: string;
  file: string;
  entry: TensorEntry;
  /** The adapter merged into it, if any. */
  adapter?: { a: Float32Array; b: Float32Array; rank: number };
}

/** Every tensor of the source checkpoint with the file holding it, in the source's order. */
function sourceTensors(dir: string): SourceTensor[] {
  const { files, fileOf } = weightFiles(dir);
  const headers = new Map(files.map((f) => [f, readSafetensorsHeader(f)]));
  if (fileOf)
    return [...fileOf].map(([name, file]) => {
      const entry = headers.get(file)!.tensors.get(name);
      if (!entry) throw new Error(`${file}: has no tensor named ${name} (named by ${INDEX_FILE})`);
      return { name, file, entry };
    });
  const [file] = files;
  return [...headers.get(file)!.tensors].map(([name, entry]) => ({ name, file, entry }));
}

/** Pairs each adapter module with the source weight it adapts, checking names and shapes. */
function attachAdapters(dir: string, tensors: SourceTensor[], adapters: LoraAdapters): void {
  const byName = new Map(tensors.map((t) => [t.name, t]));
  const modules = new Set([...adapters.weights.keys()].map((name) => name.replace(/\.lora_[AB]$/, '')));
  for (const module of modules) {
    const a = adapters.weights.get(`${module}.lora_A`);
    const b = adapters.weights.get(`${module}.lora_B`);
    if (!a || !b) throw new Error(`adapter ${module}: needs both lora_A and lora_B`);
    const target = byName.get(`${module}.weight`);
    if (!target) throw new Error(`${dir}: has no tensor ${module}.weight for the adapter of ${module}`);
    const [out, inputs] = target.entry.shape;
    const rank = adapters.lora.rank;
    if (
      target.entry.shape.length !== 2 ||
      a.shape.join() !== [inputs, rank].join() ||
      b.shape.join() !== [rank, out].join()
    )
      throw new Error(
        `adapter ${module}: lora_A [${a.shape}] and lora_B [${b.shape}] do not fit ${module}.weight [${target.entry.shape}] at rank ${rank}`,
      );
    if (!FLOAT_DTYPES.has(target.entry.dtype))
      throw new Error(
        `${target.file}: ${module}.weight has dtype ${target.entry.dtype}; only F32, F16 and BF16 merge`,
      );
    target.adapter = { a: a.values, b: b.values, rank };
  }
}

/** W [out, in] + scale · (A [in, r] · B [r, out])ᵀ, each element summed in float64, stored as float32. */
export function mergeLora(
  weight: Float32Array,
  out: number,
  inputs: number,
  adapter: { a: Float32Array; b: Float32Array; rank: number },
  scale: number,
): Float32Array {
  const { a, b, rank } = adapter;
  const bt = new Float64Array(out * rank); // B transposed: [out, r], one row per output
  for (let k = 0; k < rank; k++) for (let o = 0; o < out; o++) bt[o * rank + k] = b[k * out + o];
  const merged = new Float32Array(weight.length);
  for (let o = 0; o < out; o++)
    for (let i = 0; i < inputs; i++) {
      let sum = 0;
      for (let k = 0; k < rank; k++) sum += a[i * rank + k] * bt[o * rank + k];
      merged[o * inputs + i] = weight[o * inputs + i] + scale * sum;
    }
  return merged;
}

function outputDtype(tensor: SourceTensor, dtype: MergedDtype): string {
  return dtype === 'float32' && FLOAT_DTYPES.has(tensor.entry.dtype) ? 'F32' : tensor.entry.dtype;
}

function encoded(values: Float32Array, dtype: string): Uint8Array {
  if (dtype === 'F32') return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  return encodeHalfPrecision(values, dtype as 'BF16' | 'F16');
}

/** What one output tensor holds, read (and merged) from the source only when it is written. */
function tensorToWrite(tensor: SourceTensor, dtype: string, scale: number): TensorToWrite {
  const { name, file, entry } = tensor;
  const [begin, end] = entry.data_offsets;
  const count = entry.shape.reduce((x, y) => x * y, 1);
  const byteLength = dtype === entry.dtype ? end - begin : count * BYTES[dtype];
  return {
    dtype,
    shape: entry.shape,
    byteLength,
    bytes: () => {
      if (!tensor.adapter && dtype === entry.dtype) return readTensorBytes(file, [name]).get(name)!.bytes;
      const { values } = readSafetensors(file, [name]).get(name)!;
      if (!tensor.adapter) return encoded(values, dtype);
      const [out, inputs] = entry.shape;
      return encoded(mergeLora(values, out, inputs, tensor.adapter, scale), dtype);
    },
  };
}

/** Tensors split into shards in order, a shard closed before a tensor would take it past `maxBytes`. */
function shards<T extends { byteLength: number }>(tensors: T[], maxBytes: number): T[][] {
  const out: T[][] = [];
  let size = 0;
  for (const tensor of tensors) {
    if (out.length === 0 || (size > 0 && size + tensor.byteLength > maxBytes)) {
      out.push([]);
      size = 0;
    }
    out[out.length - 1].push(tensor);
    size += tensor.byteLength;
  }
  return out;
}

function shardName(index: number, count: number): string {
  if (count === 1) return SINGLE_FILE;
  const pad = (n: number) => String(n).padStart(5, '0');
  return `model-${pad(index + 1)}-of-${pad(count)}.safetensors`;
}

/** The source's files other than its weights (top level only), config.json's dtype set to float32 when widened. */
function copyOtherFiles(source: string, target: string, dtype: MergedDtype): string[] {
  const copied: string[] = [];
  for (const entry of fs.readdirSync(source, { withFileTypes: true })) {
    if (!entry.isFile() || isWeightFile(entry.name)) continue;
    const from = path.join(source, entry.name);
    const to = path.join(target, entry.name);
    if (entry.name === 'config.json' && dtype === 'float32') {
      const config = JSON.parse(fs.readFileSync(from, 'utf8')) as Record<string, unknown>;
      for (const key of ['torch_dtype', 'dtype']) if (key in config) config[key] = 'float32';
      fs.writeFileSync(to, `${JSON.stringify(config, null, 2)}\n`);
    } else {
      fs.copyFileSync(from, to);
    }
    copied.push(entry.name);
  }
  return copied.sort();
}

/**
 * Writes `source` (a Hugging Face Llama/Qwen2 checkpoint directory) with `adapters` merged into `target`:
 * config.json and the tokenizer, chat-template and generation files copied, weights in safetensors under
 * the source's tensor names (model.safetensors, or shards and model.safetensors.index.json past
 * `maxShardBytes`). Every adapter must fit a 2-D float weight of the source.
 */
export function writeMergedCheckpoint(
  source: string,
  adapters: LoraAdapters,
  target: string,
  options: MergedExportOptions = {},
): MergedExport {
  const dtype = options.dtype ?? 'source';
  const maxShardBytes = options.maxShardBytes ?? DEFAULT_MAX_SHARD_BYTES;
  const tensors = sourceTensors(source);
  attachAdapters(source, tensors, adapters);
  prepareExportTarget(target, source, options.overwrite ?? false);
  const scale = adapters.lora.alpha / adapters.lora.rank;
  const planned = tensors.map((t) => ({ tensor: t, write: tensorToWrite(t, outputDtype(t, dtype), scale) }));
  const sharded = shards(
    planned.map((p) => ({ ...p, byteLength: p.write.byteLength })),
    maxShardBytes,
  );
  const weightMap: Record<string, string> = {};
  const written: string[] = [];
  sharded.forEach((shard, index) => {
    const file = shardName(index, sharded.length);
    writeSafetensorsFile(path.join(target, file), new Map(shard.map((p) => [p.tensor.name, p.write])));
    for (const p of shard) weightMap[p.tensor.name] = file;
    written.push(file);
  });
  const totalBytes = planned.reduce((sum, p) => sum + p.write.byteLength, 0);
  if (sharded.length > 1) {
    const sortedMap = Object.fromEntries(Object.entries(weightMap).sort(([x], [y]) => (x < y ? -1 : 1)));
    const index = { metadata: { total_size: totalBytes }, weight_map: sortedMap };
    fs.writeFileSync(path.join(target, INDEX_FILE), `${JSON.stringify(index, null, 2)}\n`);
  }
  return {
    weightFiles: written,
    copiedFiles: copyOtherFiles(source, target, dtype),
    mergedTensors: tensors.filter((t) => t.adapter).map((t) => t.name),
    totalBytes,
  };
}
