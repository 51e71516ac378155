import type { BlobStore, EventStore } from '@recon/eventlog';
import { generate } from '@recon/policy';
import {
  applyAdapterCheckpoint,
  PretrainedChatTokens,
  type PretrainedCausalLM,
  type PretrainedSource,
} from '@recon/pretrained';
import { openPretrainedCheckpoint } from '@recon/policy-runtime';
import type { RolloutPolicy } from './rollout-policy';

interface LoadedBase {
  runId: string;
  source: PretrainedSource;
  model: PretrainedCausalLM;
  tokens: PretrainedChatTokens;
}

/**
 * Rollouts of a pretrained run: its recorded checkpoint directory (refused when its files changed) with
 * the adapters of the requested policy version, sampled in this process through the KV cache (the compute
 * pool runs the built-in transformer only). The base stays loaded from one step to the next: only the
 * adapters change, so a step costs one adapter read, not a read of the base weights.
 */
export class PretrainedRollouts {
  private loaded: LoadedBase | null = null;

  constructor(private readonly stores: { eventStore: EventStore; blobStore: BlobStore }) {}

  async policy(runId: string, policyVersion: string): Promise<RolloutPolicy> {
    if (this.loaded?.runId === runId) {
      const bytes = await this.stores.blobStore.get(policyVersion);
      applyAdapterCheckpoint(this.loaded.model, this.loaded.source, bytes, policyVersion);
    } else {
      this.close();
      const { source, model, tokens } = await openPretrainedCheckpoint(this.stores, runId, policyVersion);
      this.loaded = { runId, source, model, tokens };
    }
    const { model, tokens } = this.loaded!;
    return {
      tokens,
      context: model.config.context,
      eosId: tokens.specialTokens.eos,
      workers: 1,
      sample: async (requests, options) => generate(model, tokens, requests, options),
    };
  }

  close(): void {
    this.loaded?.model.dispose();
    this.loaded = null;
  }
}
