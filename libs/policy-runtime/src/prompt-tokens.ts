import type { ByteBpeTokenizer, ChatTurn } from '@recon/policy';

/**
 * Chat prompt ids ending with the assistant marker, shortened from the left (keeping the start marker)
 * when prompt plus room for `completionTokens` would not fit the context. Returns how many were dropped.
 */
export function promptTokens(
  tokenizer: ByteBpeTokenizer,
  messages: readonly ChatTurn[],
  context: number,
  completionTokens: number,
): { ids: number[]; dropped: number } {
  const ids = tokenizer.encodeChat(messages, { addGenerationPrompt: true });
  const budget = context - completionTokens;
  if (budget < 2)
    throw new Error(
      `context ${context} leaves no room for a prompt after ${completionTokens} completion tokens`,
    );
  if (ids.length <= budget) return { ids, dropped: 0 };
  const dropped = ids.length - budget;
  return { ids: [ids[0], ...ids.slice(dropped + 1)], dropped };
}
