import type { ByteBpeTokenizer, ChatTurn } from '@recon/policy';

/** A prompt that does not fit the context with room for the completion, refused rather than cut. */
export class PromptOverflowError extends Error {
  constructor(
    readonly promptLength: number,
    readonly budget: number,
  ) {
    super(`the prompt takes ${promptLength} tokens and the context leaves ${budget} for it`);
    this.name = 'PromptOverflowError';
  }
}

export interface PromptTokenOptions {
  /**
   * `cut-left` (default): drop tokens after the start marker until the prompt fits. `refuse`: throw a
   * PromptOverflowError instead, for prompts whose beginning matters (the games' rules).
   */
  overflow?: 'cut-left' | 'refuse';
}

/**
 * Chat prompt ids ending with the assistant marker, shortened from the left (keeping the start marker)
 * when prompt plus room for `completionTokens` would not fit the context. Returns how many were dropped.
 */
export function promptTokens(
  tokenizer: Pick<ByteBpeTokenizer, 'encodeChat'>,
  messages: readonly ChatTurn[],
  context: number,
  completionTokens: number,
  options: PromptTokenOptions = {},
): { ids: number[]; dropped: number } {
  const ids = tokenizer.encodeChat(messages, { addGenerationPrompt: true });
  const budget = context - completionTokens;
  if (budget < 2)
    throw new Error(
      `context ${context} leaves no room for a prompt after ${completionTokens} completion tokens`,
    );
  if (ids.length <= budget) return { ids, dropped: 0 };
  if (options.overflow === 'refuse') throw new PromptOverflowError(ids.length, budget);
  const dropped = ids.length - budget;
  return { ids: [ids[0], ...ids.slice(dropped + 1)], dropped };
}
