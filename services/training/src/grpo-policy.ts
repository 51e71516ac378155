import type { ChatTurn, GrpoStepMetrics, RolloutGroup } from '@recon/policy';
import type { SavedCheckpoint } from '@recon/policy-runtime';

/** How a policy turns chats and completions into token ids (the built-in tokenizer or a checkpoint's). */
export interface GrpoTokens {
  encode(text: string): number[];
  encodeChat(messages: readonly ChatTurn[], options?: { addGenerationPrompt?: boolean }): number[];
  readonly specialTokens: { pad: number; eos: number };
}

/**
 * What a run's GRPO steps need from the policy being trained, whichever kind it is: the built-in transformer
 * updated on the compute pool (builtin-grpo-policy.ts) or a pretrained checkpoint's LoRA adapters updated
 * in this process (pretrained-training.ts). The decisions around it (training-process.ts) are the same.
 */
export interface GrpoPolicy {
  readonly tokens: GrpoTokens;
  readonly context: number;
  /** Compute workers the updates run on (recorded with each step; 1 for an update in this process). */
  readonly workers: number;
  /** One GRPO update on a step's scored rollout groups; one metrics record per optimiser iteration. */
  train(groups: readonly RolloutGroup[]): Promise<GrpoStepMetrics[]>;
  /** The weights GRPO starts from, before any update: the first rollouts' policy version. */
  saveStart(): Promise<SavedCheckpoint>;
  /** The updated weights with the trainer's state, so that a restart continues exactly where this left. */
  saveTrained(): Promise<SavedCheckpoint>;
  close(): Promise<void>;
}
