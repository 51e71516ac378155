import * as tf from '@tensorflow/tfjs-core';
import type { BlobStore } from '@recon/eventlog';
import {
  ByteBpeTokenizer,
  decodeCheckpoint,
  encodeCheckpoint,
  parseTransformerConfig,
  TransformerPolicy,
  weightsHash,
  type DecodedCheckpoint,
  type TrainerState,
  type TransformerConfig,
} from '@recon/policy';
import { canonicalJson } from '@recon/eventlog';
import { RecentContent } from './recent-content';

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

/**
 * Checkpoints saved or read last in this process, decoded: the rollout worker of the embedded deployment
 * asks for the checkpoint training has just saved at every GRPO step. Bounded so a large model's weights
 * and optimiser state are not held twice.
 */
const recentCheckpoints = new RecentContent<DecodedCheckpoint>(2, 64 * 1024 * 1024);
/** Tokenizers are immutable and every checkpoint of a run names the same one. */
const recentTokenizers = new RecentContent<ByteBpeTokenizer>(4, Number.POSITIVE_INFINITY);

/** Stores a tokenizer as its canonical JSON; the blob's hash is the tokenizer's content hash. */
export async function saveTokenizer(blobStore: BlobStore, tokenizer: ByteBpeTokenizer): Promise<string> {
  const hash = await blobStore.put(canonicalJson(tokenizer.toJSON()));
  if (hash !== tokenizer.contentHash)
    throw new Error(`tokenizer blob hash ${hash} differs from its content hash ${tokenizer.contentHash}`);
  recentTokenizers.set(hash, tokenizer, 0);
  return hash;
}

export async function loadTokenizer(blobStore: BlobStore, hash: string): Promise<ByteBpeTokenizer> {
  const recent = recentTokenizers.get(hash);
  if (recent && (await blobStore.has(hash))) return recent;
  const tokenizer = ByteBpeTokenizer.fromJSON(JSON.parse((await blobStore.get(hash)).toString('utf8')));
  if (tokenizer.contentHash === hash) recentTokenizers.set(hash, tokenizer, 0);
  return tokenizer;
}

/** A checkpoint's content as decodeCheckpoint would return it, from the live tensors (copied). */
function snapshot(
  config: CheckpointConfig,
  tokenizerHash: string,
  model: TransformerPolicy,
  trainer: TrainerState,
): DecodedCheckpoint {
  const weights: DecodedCheckpoint['weights'] = new Map();
  for (const [name, t] of model.namedWeights())
    weights.set(name, { shape: [...t.shape], values: (t.dataSync() as Float32Array).slice() });
  const moments: TrainerState['optimizer']['moments'] = {};
  for (const [name, { shape, m, v }] of Object.entries(trainer.optimizer.moments))
    moments[name] = { shape: [...shape], m: m.slice(), v: v.slice() };
  return {
    config: JSON.parse(JSON.stringify(config)),
    tokenizerHash,
    weights,
    trainer: {
      ...(JSON.parse(
        JSON.stringify({ step: trainer.step, rng: trainer.rng, dataPosition: trainer.dataPosition }),
      ) as Omit<TrainerState, 'optimizer'>),
      optimizer: { step: trainer.optimizer.step, moments },
    },
  };
}

/** Saves weights (and the trainer's optimiser/RNG/data state when given) as a content-addressed blob. */
export async function savePolicyCheckpoint(
  blobStore: BlobStore,
  model: TransformerPolicy,
  options: { tokenizerHash: string; backend: string; trainer?: TrainerState },
): Promise<SavedCheckpoint> {
  const config: CheckpointConfig = { model: model.config, backend: options.backend };
  const trainer = options.trainer ?? EMPTY_TRAINER;
  const { bytes, hash } = encodeCheckpoint({
    config,
    tokenizerHash: options.tokenizerHash,
    weights: model.namedWeights(),
    trainer,
  });
  const stored = await blobStore.put(bytes);
  if (stored !== hash)
    throw new Error(`checkpoint blob hash ${stored} differs from its content hash ${hash}`);
  if (bytes.byteLength <= recentCheckpoints.maxBytes)
    recentCheckpoints.set(hash, snapshot(config, options.tokenizerHash, model, trainer), bytes.byteLength);
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
 * on top of stored base weights; every stored weight must exist in the model. `reuse` hands over a model
 * this call owns from then on: when it has the checkpoint's config and every weight it has is stored, the
 * weights are written into it (no new model to build and initialise); otherwise it is disposed.
 */
export async function loadPolicyCheckpoint(
  blobStore: BlobStore,
  checkpointHash: string,
  modelOverrides: Partial<TransformerConfig> = {},
  reuse?: TransformerPolicy,
): Promise<LoadedPolicy> {
  let model: TransformerPolicy | undefined = reuse;
  try {
    const decoded = await readCheckpoint(blobStore, checkpointHash);
    const config = decoded.config as CheckpointConfig;
    const modelConfig = parseTransformerConfig({ ...config.model, ...modelOverrides });
    if (model && !(sameConfig(model.config, modelConfig) && storesEveryWeight(model, decoded))) {
      model.dispose();
      model = undefined;
    }
    model ??= new TransformerPolicy(modelConfig);
    model.setAdaptersEnabled(true);
    const named = model.namedWeights();
    for (const [name, { shape, values }] of decoded.weights) {
      const variable = named.get(name);
      if (!variable) throw new Error(`checkpoint ${checkpointHash}: the model has no weight "${name}"`);
      if (variable.shape.join(',') !== shape.join(','))
        throw new Error(
          `checkpoint ${checkpointHash}: "${name}" is [${shape}] stored, [${variable.shape}] in the model`,
        );
      // The variable keeps the data; the tidy frees the tensor it was made from.
      tf.tidy(() => variable.assign(tf.tensor(values, shape, 'float32')));
    }
    for (const name of named.keys())
      if (!decoded.weights.has(name) && !/\.lora_[ab]$/.test(name))
        throw new Error(`checkpoint ${checkpointHash}: no stored weight "${name}"`);
    const tokenizer = await loadTokenizer(blobStore, decoded.tokenizerHash);
    return { checkpointHash, model, tokenizer, trainer: decoded.trainer, config };
  } catch (error) {
    model?.dispose();
    throw error;
  }
}

function sameConfig(a: TransformerConfig, b: TransformerConfig): boolean {
  return canonicalJson(a) === canonicalJson(b);
}

/** Whether loading the checkpoint overwrites every weight of the model (none keeps a value of its own). */
function storesEveryWeight(model: TransformerPolicy, decoded: DecodedCheckpoint): boolean {
  return [...model.namedWeights().keys()].every((name) => decoded.weights.has(name));
}

/** What a compute worker needs to sample from a checkpoint, without building the model on this thread. */
export interface CheckpointPolicy {
  checkpointHash: string;
  model: TransformerConfig;
  weights: Record<string, { shape: number[]; values: Float32Array }>;
  tokenizer: ByteBpeTokenizer;
}

export async function readCheckpointPolicy(
  blobStore: BlobStore,
  checkpointHash: string,
): Promise<CheckpointPolicy> {
  const decoded = await readCheckpoint(blobStore, checkpointHash);
  const config = decoded.config as CheckpointConfig;
  return {
    checkpointHash,
    model: parseTransformerConfig(config.model),
    weights: Object.fromEntries(decoded.weights),
    tokenizer: await loadTokenizer(blobStore, decoded.tokenizerHash),
  };
}

/** A checkpoint's content: from memory when this process has just saved or read it, else from its blob. */
async function readCheckpoint(blobStore: BlobStore, checkpointHash: string): Promise<DecodedCheckpoint> {
  const recent = recentCheckpoints.get(checkpointHash);
  if (recent && (await blobStore.has(checkpointHash))) return recent;
  const bytes = await blobStore.get(checkpointHash);
  const decoded = decodeCheckpoint(bytes, checkpointHash);
  recentCheckpoints.set(checkpointHash, decoded, bytes.byteLength);
  return decoded;
}

/**
 * Keeps the most recently used policies in memory (rollout and evaluation reload the same checkpoint often).
 * With `recycle`, the model a new checkpoint evicts receives that checkpoint's weights instead of being
 * disposed and rebuilt (GRPO asks for a new checkpoint of the same model every step): for callers that do
 * not hold on to a policy once they ask for another.
 */
export class PolicyCache {
  private readonly entries = new Map<string, Promise<LoadedPolicy>>();

  constructor(
    private readonly blobStore: BlobStore,
    private readonly capacity = 2,
    private readonly options: { recycle?: boolean } = {},
  ) {}

  get(checkpointHash: string): Promise<LoadedPolicy> {
    let entry = this.entries.get(checkpointHash);
    if (entry) {
      this.entries.delete(checkpointHash);
      this.entries.set(checkpointHash, entry);
      return entry;
    }
    let recycled: Promise<TransformerPolicy | undefined> = Promise.resolve(undefined);
    let recycling = false;
    while (this.entries.size >= Math.max(this.capacity, 1)) {
      const [oldest, evicted] = this.entries.entries().next().value as [string, Promise<LoadedPolicy>];
      this.entries.delete(oldest);
      if (this.options.recycle && !recycling) {
        recycling = true;
        recycled = evicted.then(
          (p) => p.model,
          () => undefined,
        );
      } else void evicted.then((p) => p.model.dispose()).catch(() => undefined);
    }
    entry = recycled.then((model) => loadPolicyCheckpoint(this.blobStore, checkpointHash, {}, model));
    entry.catch(() => this.entries.delete(checkpointHash));
    this.entries.set(checkpointHash, entry);
    return entry;
  }

  clear(): void {
    for (const entry of this.entries.values())
      void entry.then((p) => p.model.dispose()).catch(() => undefined);
    this.entries.clear();
  }
}
