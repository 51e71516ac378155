import type { ChatTurn, SampledCompletion, SampleRequest, SamplingOptionsInput } from '@recon/policy';

/** What a step's rollouts are drawn from: a policy version with its tokenizer, whichever kind of policy. */
export interface RolloutPolicy {
  readonly tokens: {
    encodeChat(messages: readonly ChatTurn[], options?: { addGenerationPrompt?: boolean }): number[];
  };
  readonly context: number;
  readonly eosId: number;
  /** Compute workers the completions are sampled on (1: this process). */
  readonly workers: number;
  sample(requests: readonly SampleRequest[], options: SamplingOptionsInput): Promise<SampledCompletion[]>;
}
