import type { ByteBpeTokenizer, TokenSequence } from '@recon/policy';

export interface TraceRowLike {
  prompt: string;
  response: string;
}

export interface SftExamples {
  sequences: TokenSequence[];
  /** Sequences cut at the context (the start of their response is kept). */
  truncated: number;
  /** Prompts longer than half the context, kept as their start marker plus their end (where the question is). */
  promptsShortened: number;
}

/**
 * SFT sequences: the chat prompt (user turn + assistant marker) then the response and end of turn; loss
 * only on the response. Recon-CoT rows run to thousands of tokens, so for a small context a prompt longer
 * than half of it keeps its first token (the start marker) and its end, and the sequence is cut at the
 * context + 1: a small policy learns the beginning of each trace.
 */
export function sftExamples(
  tokenizer: ByteBpeTokenizer,
  rows: readonly TraceRowLike[],
  context: number,
): SftExamples {
  const sequences: TokenSequence[] = [];
  let truncated = 0;
  let promptsShortened = 0;
  const promptBudget = Math.max(2, Math.floor(context / 2));
  for (const row of rows) {
    let prompt = tokenizer.encodeChat([{ role: 'user', content: row.prompt }], { addGenerationPrompt: true });
    if (prompt.length > promptBudget) {
      prompt = [prompt[0], ...prompt.slice(prompt.length - (promptBudget - 1))];
      promptsShortened++;
    }
    const tokens = [...prompt, ...tokenizer.encode(row.response), tokenizer.specialTokens.eos];
    if (tokens.length > context + 1) truncated++;
    sequences.push({ tokens: tokens.slice(0, context + 1), completionStart: prompt.length });
  }
  return { sequences, truncated, promptsShortened };
}
