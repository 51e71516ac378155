import type { Agent, GameDecoding, Observation } from '@recon/games';
import { deriveSeed } from '@recon/games';
import { CompletionTrie } from '@recon/policy';
import { storableText } from '@recon/contracts';
import { PromptOverflowError, promptTokens, type LoadedPolicy } from '@recon/policy-runtime';
import { inThreadSampler, type PolicySampler } from './policy-sampler';

export interface PolicyAgentSampling {
  temperature: number;
  maxTokens: number;
  /**
   * `free` (default): one sampled completion. `constrained`: sampling masked to the observation's legal
   * replies, so every answer parses; the same seed stream and temperature as free sampling.
   */
  decoding?: GameDecoding;
  /**
   * A prompt longer than the context leaves room for: `refuse` (default) records a non-answer saying so, since a
   * game prompt cut from the left has lost its rules; `cut-left` keeps its end (for tiny test contexts).
   */
  promptOverflow?: 'refuse' | 'cut-left';
}

/**
 * A built-in policy playing through the text protocol: each decision is one sampled completion of the
 * observation's chat messages, with a seed derived from the match seed and the decision index, so a match
 * replays exactly. A prompt that does not fit the context is not asked (its reply says why; it parses as no move).
 */
export class PolicyAgent implements Agent {
  readonly name: string;
  private decisions = 0;
  private readonly sampler: PolicySampler;

  /** `sampler`: where completions are sampled (default this thread; see poolSampler). */
  constructor(
    private readonly policy: Pick<LoadedPolicy, 'model' | 'tokenizer' | 'checkpointHash'>,
    private readonly seed: number,
    private readonly sampling: PolicyAgentSampling,
    sampler?: PolicySampler,
  ) {
    this.name = `policy:${policy.checkpointHash.slice(0, 12)}`;
    this.sampler = sampler ?? inThreadSampler(policy);
  }

  async act(observation: Observation): Promise<string> {
    const { model, tokenizer } = this.policy;
    const context = model.config.context;
    const seed = deriveSeed(this.seed, this.decisions++);
    const eos = tokenizer.specialTokens.eos;
    if (this.sampling.decoding === 'constrained') {
      const trie = new CompletionTrie(tokenizer, observation.replies, eos);
      // The prompt keeps as much as leaves room for the longest legal reply: no free-form budget is needed.
      const ids = this.promptIds(observation, trie.longest);
      if (typeof ids === 'string') return ids;
      return this.sampler.constrained(
        { promptIds: ids, seed },
        { strings: observation.replies, trie },
        { temperature: this.sampling.temperature, endTokenId: eos },
      );
    }
    const maxTokens = Math.min(this.sampling.maxTokens, context - 2);
    const ids = this.promptIds(observation, maxTokens);
    if (typeof ids === 'string') return ids;
    const text = await this.sampler.free(
      { promptIds: ids, seed },
      { temperature: this.sampling.temperature, maxTokens, stopTokenIds: [eos] },
    );
    // What the agent said is recorded as game.move rawText: keep it storable.
    return storableText(text);
  }

  /**
   * The observation's prompt ids, or, when the rules do not fit the context with room for the reply, a
   * recorded non-answer saying so: a game prompt cut from the left loses its rules, so it is never asked.
   */
  private promptIds(observation: Observation, replyTokens: number): number[] | string {
    const { model, tokenizer } = this.policy;
    try {
      const overflow = this.sampling.promptOverflow ?? 'refuse';
      return promptTokens(tokenizer, observation.messages, model.config.context, replyTokens, { overflow }).ids;
    } catch (error) {
      if (error instanceof PromptOverflowError) return `[not asked: ${error.message}]`;
      throw error;
    }
  }
}
