import * as tf from '@tensorflow/tfjs-core';
import type { BlobStore } from '@recon/eventlog';
import {
  ByteBpeTokenizer,
  decodeCheckpoint,
  encodeCheckpoint,
  parseTransformerConfig,
  TransformerPolicy,
  weightsHash,
  type TrainerState,
  type TransformerConfig,
} from '@recon/policy';
import { canonicalJson } from '@recon/eventlog';

export interface SavedCheckpoint {
  checkpointHash: string;
  weightsHash: string;
  sizeBytes: number;
}

export interface CheckpointConfig {
  model: TransformerConfig;
  backend: string;
}

const EMPTY_TRAINER: TrainerState = { step: 0, optimizer: { step: 0, moments: {} } };

/** Stores a tokenizer as its canonical JSON; the blob's hash is the tokenizer's content hash. */
export async function saveTokenizer(blobStore: BlobStore, tokenizer: ByteBpeTokenizer): Promise<string> {
  const hash = await blobStore.put(canonicalJson(tokenizer.toJSON()));
  if (hash !== tokenizer.contentHash)
    throw new Error(`tokenizer blob hash ${hash} differs from its content hash ${tokenizer.contentHash}`);
  return hash;
}

export async function loadTokenizer(blobStore: BlobStore, hash: string): Promise<ByteBpeTokenizer> {
  return ByteBpeTokenizer.fromJSON(JSON.parse((await blobStore.get(hash)).toString('utf8')));
}

/** Saves weights (and the trainer's optimiser/RNG/data state when given) as a content-addressed blob. */
export async function savePolicyCheckpoint(
  blobStore: BlobStore,
  model: TransformerPolicy,
  options: { tokenizerHash: string; backend: string; trainer?: TrainerState },
): Promise<SavedCheckpoint> {
  const config: CheckpointConfig = { model: model.config, backend: options.backend };
  const { bytes, hash } = encodeCheckpoint({
    config,
    tokenizerHash: options.tokenizerHash,
    weights: model.namedWeights(),
    trainer: options.trainer ?? EMPTY_TRAINER,
  });
  const stored = await blobStore.put(bytes);
  if (stored !== hash)
    throw new Error(`checkpoint blob hash ${stored} differs from its content hash ${hash}`);
  return {
    checkpointHash: hash,
    weightsHash: weightsHash(model.namedWeights()),
    sizeBytes: bytes.byteLength,
  };
}

export interface LoadedPolicy {
  checkpointHash: string;
  model: TransformerPolicy;
  tokenizer: ByteBpeTokenizer;
  trainer: TrainerState;
  config: CheckpointConfig;
}

/**
 * Builds a policy from a checkpoint blob. `modelOverrides` may add LoRA adapters (new, zero-initialised)
 * on top of stored base weights; every stored weight must exist in the model.
 */
export async function loadPolicyCheckpoint(
  blobStore: BlobStore,
  checkpointHash: string,
  modelOverrides: Partial<TransformerConfig> = {},
): Promise<LoadedPolicy> {
  const decoded = decodeCheckpoint(await blobStore.get(checkpointHash), checkpointHash);
  const config = decoded.config as CheckpointConfig;
  const model = new TransformerPolicy(parseTransformerConfig({ ...config.model, ...modelOverrides }));
  const named = model.namedWeights();
  for (const [name, { shape, values }] of decoded.weights) {
    const variable = named.get(name);
    if (!variable) throw new Error(`checkpoint ${checkpointHash}: the model has no weight "${name}"`);
    if (variable.shape.join(',') !== shape.join(','))
      throw new Error(
        `checkpoint ${checkpointHash}: "${name}" is [${shape}] stored, [${variable.shape}] in the model`,
      );
    variable.assign(tf.tensor(values, shape, 'float32'));
  }
  for (const name of named.keys())
    if (!decoded.weights.has(name) && !/\.lora_[ab]$/.test(name))
      throw new Error(`checkpoint ${checkpointHash}: no stored weight "${name}"`);
  const tokenizer = await loadTokenizer(blobStore, decoded.tokenizerHash);
  return { checkpointHash, model, tokenizer, trainer: decoded.trainer, config };
}

/** Keeps the most recently used policies in memory (rollout and evaluation reload the same checkpoint often). */
export class PolicyCache {
  private readonly entries = new Map<string, Promise<LoadedPolicy>>();

  constructor(
    private readonly blobStore: BlobStore,
    private readonly capacity = 2,
  ) {}

  get(checkpointHash: string): Promise<LoadedPolicy> {
    let entry = this.entries.get(checkpointHash);
    if (entry) {
      this.entries.delete(checkpointHash);
    } else {
      entry = loadPolicyCheckpoint(this.blobStore, checkpointHash);
      entry.catch(() => this.entries.delete(checkpointHash));
    }
    this.entries.set(checkpointHash, entry);
    while (this.entries.size > this.capacity) {
      const [oldest, evicted] = this.entries.entries().next().value as [string, Promise<LoadedPolicy>];
      this.entries.delete(oldest);
      void evicted.then((p) => p.model.dispose()).catch(() => undefined);
    }
    return entry;
  }

  clear(): void {
    for (const entry of this.entries.values())
      void entry.then((p) => p.model.dispose()).catch(() => undefined);
    this.entries.clear();
  }
}
