import type { BlobStore, EventStore } from '@recon/eventlog';
import {
  generate,
  type ChatTurn,
  type SampledCompletion,
  type SampleRequest,
  type SamplingOptionsInput,
} from '@recon/policy';
import {
  checkpointPoolPolicy,
  generateOnPool,
  openPretrainedCheckpoint,
  promptTokens,
  readCheckpointPolicy,
  type ComputePool,
  type LoadedPolicy,
} from '@recon/policy-runtime';

/** How a stage's held-out items are prompted and sampled, whichever policy the run trains. */
export interface StageSampler {
  context: number;
  eosId: number;
  promptIds(messages: readonly ChatTurn[], completionTokens: number): number[];
  sample(requests: readonly SampleRequest[], options: SamplingOptionsInput): Promise<SampledCompletion[]>;
  dispose(): void;
}

/** A built-in policy's stage: sampled on the compute workers, off the event loop. */
export async function poolStageSampler(
  blobStore: BlobStore,
  pool: ComputePool,
  policy: LoadedPolicy,
): Promise<StageSampler> {
  const { model, tokenizer } = policy;
  const context = model.config.context;
  const pooled = checkpointPoolPolicy(await readCheckpointPolicy(blobStore, policy.checkpointHash));
  return {
    context,
    eosId: tokenizer.specialTokens.eos,
    promptIds: (messages, completionTokens) =>
      promptTokens(tokenizer, messages, context, completionTokens).ids,
    sample: (requests, options) => generateOnPool(pool, pooled, requests, options),
    dispose: () => undefined,
  };
}

/**
 * A pretrained policy's stage: the directory the run recorded (refused when its files changed) with the
 * stage's adapters, sampled in this process through the KV cache (the compute pool runs the built-in
 * transformer only).
 */
export async function pretrainedStageSampler(
  stores: { eventStore: EventStore; blobStore: BlobStore },
  runId: string,
  checkpointHash: string,
): Promise<StageSampler> {
  const { model, tokens } = await openPretrainedCheckpoint(stores, runId, checkpointHash);
  const context = model.config.context;
  return {
    context,
    eosId: tokens.specialTokens.eos,
    promptIds: (messages, completionTokens) => promptTokens(tokens, messages, context, completionTokens).ids,
    sample: async (requests, options) => generate(model, tokens, requests, options),
    dispose: () => model.dispose(),
  };
}
