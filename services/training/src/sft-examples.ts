import type { ByteBpeTokenizer, ChatTurn, TokenSequence } from '@recon/policy';

/** What SFT examples need of a tokenizer: the run's trained BPE one, or a pretrained checkpoint's. */
export type SftTokenizer = Pick<ByteBpeTokenizer, 'encode' | 'encodeChat'> & {
  readonly specialTokens: { readonly eos: number };
};

export interface TraceRowLike {
  prompt: string;
  /** The chat the prompt is asked in, when it is not one user turn (game-format items: system + user). */
  messages?: ChatTurn[];
  response: string;
}

export interface SftExamples {
  sequences: TokenSequence[];
  /** Sequences cut at the context (the start of their response is kept). */
  truncated: number;
  /** Prompts longer than half the context, kept as their start marker plus their end (where the question is). */
  promptsShortened: number;
  /** Chat rows (game-format items) left out because prompt and response do not fit the context whole. */
  chatRowsDropped: number;
}

/**
 * SFT sequences: the chat prompt (user turn + assistant marker) then the response and end of turn; loss
 * only on the response. Recon-CoT rows run to thousands of tokens, so for a small context a prompt longer
 * than half of it keeps its first token (the start marker) and its end, and the sequence is cut at the
 * context + 1: a small policy learns the beginning of each trace. Rows that carry their chat (game-format
 * items) are kept whole or dropped.
 */
export function sftExamples(
  tokenizer: SftTokenizer,
  rows: readonly TraceRowLike[],
  context: number,
): SftExamples {
  const sequences: TokenSequence[] = [];
  let truncated = 0;
  let promptsShortened = 0;
  const promptBudget = Math.max(2, Math.floor(context / 2));
  let chatRowsDropped = 0;
  for (const row of rows) {
    if (row.messages) {
      // A game-format item is learnt whole, in the evaluation's layout, or not at all: a cut rule list
      // would teach answers to games the prompt no longer states.
      const prompt = tokenizer.encodeChat(row.messages, { addGenerationPrompt: true });
      const tokens = [...prompt, ...tokenizer.encode(row.response), tokenizer.specialTokens.eos];
      if (tokens.length > context + 1) chatRowsDropped++;
      else sequences.push({ tokens, completionStart: prompt.length });
      continue;
    }
    let prompt = tokenizer.encodeChat([{ role: 'user', content: row.prompt }], { addGenerationPrompt: true });
    if (prompt.length > promptBudget) {
      prompt = [prompt[0], ...prompt.slice(prompt.length - (promptBudget - 1))];
      promptsShortened++;
    }
    const tokens = [...prompt, ...tokenizer.encode(row.response), tokenizer.specialTokens.eos];
    if (tokens.length > context + 1) truncated++;
    sequences.push({ tokens: tokens.slice(0, context + 1), completionStart: prompt.length });
  }
  return { sequences, truncated, promptsShortened, chatRowsDropped };
}
