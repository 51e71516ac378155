import { trainTokenizer } from '@recon/policy';
import { PromptOverflowError, promptTokens } from './prompt-tokens';

const tokenizer = trainTokenizer({ corpus: ['Rules: choice_1 gives 3, choice_2 gives 5.'], vocabSize: 280 });
const messages = [{ role: 'user' as const, content: 'Rules: choice_1 gives 3, choice_2 gives 5.' }];
const full = tokenizer.encodeChat(messages, { addGenerationPrompt: true });

describe('promptTokens', () => {
  it('keeps a prompt that fits', () => {
    expect(promptTokens(tokenizer, messages, full.length + 4, 4)).toEqual({ ids: full, dropped: 0 });
  });

  it('cuts from the left by default, keeping the start marker', () => {
    const { ids, dropped } = promptTokens(tokenizer, messages, full.length + 1, 4);
    expect(dropped).toBe(3);
    expect(ids).toEqual([full[0], ...full.slice(4)]);
  });

  it('refuses instead when asked to, naming the sizes', () => {
    expect(() => promptTokens(tokenizer, messages, full.length + 1, 4, { overflow: 'refuse' })).toThrow(PromptOverflowError);
    expect(() => promptTokens(tokenizer, messages, full.length + 1, 4, { overflow: 'refuse' })).toThrow(
      `the prompt takes ${full.length} tokens and the context leaves ${full.length - 3} for it`,
    );
    expect(promptTokens(tokenizer, messages, full.length + 4, 4, { overflow: 'refuse' }).ids).toEqual(full);
  });
});
