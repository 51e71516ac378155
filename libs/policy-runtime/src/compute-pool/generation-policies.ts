import {
  ByteBpeTokenizer,
  generate,
  generateConstrained,
  type ConstrainedOptionsInput,
  TransformerPolicy,
  type SampledCompletion,
  type SampleRequest,
  type SamplingOptionsInput,
} from '@recon/policy';
import { checkGeneration } from './heap-guard';
import { GENERATION_POLICIES_PER_WORKER, type PolicyContent } from './protocol';
import { assignWeights } from './weight-arrays';

interface Held {
  model: TransformerPolicy;
  tokenizer: ByteBpeTokenizer;
}

/** The policies a worker samples from, least recently used dropped first (the pool mirrors this order). */
export class GenerationPolicies {
  private readonly held = new Map<string, Held>();

  generate(
    key: string,
    content: PolicyContent | undefined,
    requests: SampleRequest[],
    options: SamplingOptionsInput,
  ): SampledCompletion[] {
    const policy = this.take(key, content);
    checkGeneration(policy.model.config, {
      rows: requests.length,
      promptLength: Math.max(0, ...requests.map((r) => r.promptIds.length)),
      maxTokens: options.maxTokens,
    });
    return generate(policy.model, policy.tokenizer, requests, options);
  }

  generateConstrained(
    key: string,
    content: PolicyContent | undefined,
    request: SampleRequest,
    allowed: readonly string[],
    options: ConstrainedOptionsInput,
  ): SampledCompletion {
    const policy = this.take(key, content);
    checkGeneration(policy.model.config, {
      rows: 1,
      promptLength: request.promptIds.length,
      maxTokens: policy.model.config.context,
    });
    return generateConstrained(policy.model, policy.tokenizer, request, allowed, options);
  }

  private take(key: string, content: PolicyContent | undefined): Held {
    let policy = this.held.get(key);
    if (policy) this.held.delete(key);
    else {
      if (!content) throw new Error(`generate: policy ${key} is not held and was not sent`);
      const model = new TransformerPolicy(content.model);
      try {
        assignWeights(model, content.weights);
      } catch (error) {
        model.dispose();
        throw error;
      }
      policy = { model, tokenizer: ByteBpeTokenizer.fromJSON(content.tokenizer) };
    }
    this.held.set(key, policy);
    while (this.held.size > GENERATION_POLICIES_PER_WORKER) {
      const [oldest, evicted] = this.held.entries().next().value as [string, Held];
      this.held.delete(oldest);
      evicted.model.dispose();
    }
    return policy;
  }

  dispose(): void {
    for (const policy of this.held.values()) policy.model.dispose();
    this.held.clear();
  }
}
