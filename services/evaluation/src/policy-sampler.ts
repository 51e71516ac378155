import { generate, generateConstrained, type CompletionTrie, type SampleRequest } from '@recon/policy';
import {
  generateConstrainedOnPool,
  generateOneOnPool,
  type ComputePool,
  type LoadedPolicy,
  type PoolPolicy,
} from '@recon/policy-runtime';

/** How a PolicyAgent's completions are sampled: in this thread, or on a compute worker. */
export interface PolicySampler {
  free(
    request: SampleRequest,
    options: { temperature: number; maxTokens: number; stopTokenIds: number[] },
  ): Promise<string>;
  /** A completion masked to the allowed strings (`trie` is built from them with `options.endTokenId`). */
  constrained(
    request: SampleRequest,
    allowed: { strings: readonly string[]; trie: CompletionTrie },
    options: { temperature: number; endTokenId: number },
  ): Promise<string>;
}

/** Samples in the calling thread (tests, and policies the pool does not hold). */
export function inThreadSampler(policy: Pick<LoadedPolicy, 'model' | 'tokenizer'>): PolicySampler {
  const { model, tokenizer } = policy;
  return {
    free: async (request, options) => generate(model, tokenizer, [request], options)[0].text,
    constrained: async (request, allowed, options) =>
      generateConstrained(model, tokenizer, request, allowed.trie, options).text,
  };
}

/**
 * Samples on worker `worker` of the compute pool, off the event loop: suites that keep one game in flight per
 * worker use every core. A completion depends only on its prompt and seed, whichever thread samples it.
 */
export function poolSampler(pool: ComputePool, policy: PoolPolicy, worker: number): PolicySampler {
  return {
    free: async (request, options) => (await generateOneOnPool(pool, policy, worker, request, options)).text,
    constrained: async (request, allowed, options) =>
      (await generateConstrainedOnPool(pool, policy, worker, request, allowed.strings, options)).text,
  };
}
