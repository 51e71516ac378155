import { trainTokenizer } from '@recon/policy';
import { sftExamples } from './sft-examples';

const system = { role: 'system' as const, content: 'You are a rational assistant taking part in a game.' };
const user = { role: 'user' as const, content: 'Rules: if you choose choice_1 you get 3. Legal choices: choice_1, choice_2.' };
const tokenizer = trainTokenizer({ corpus: [system.content, user.content, 'plain question'], vocabSize: 300 });
const response = '<think>Always 1.</think>\n<s>choice_1</s>';

describe('sftExamples with chat rows (game-format items)', () => {
  it('encodes the row chat exactly as the evaluation encodes its observation', () => {
    const { sequences } = sftExamples(tokenizer, [{ prompt: user.content, messages: [system, user], response }], 512);
    const prompt = tokenizer.encodeChat([system, user], { addGenerationPrompt: true });
    expect(sequences[0].tokens.slice(0, prompt.length)).toEqual(prompt);
    expect(sequences[0].completionStart).toBe(prompt.length);
    expect(tokenizer.decode(sequences[0].tokens.slice(prompt.length))).toBe(`${response}<|eos|>`);
  });

  it('keeps a chat row whole or drops it, never cuts its rules', () => {
    const whole = tokenizer.encodeChat([system, user], { addGenerationPrompt: true }).length + tokenizer.encode(response).length + 1;
    const fits = sftExamples(tokenizer, [{ prompt: user.content, messages: [system, user], response }], whole - 1);
    expect(fits).toMatchObject({ chatRowsDropped: 0, promptsShortened: 0, truncated: 0 });
    expect(fits.sequences[0].tokens).toHaveLength(whole);
    const tooLong = sftExamples(tokenizer, [{ prompt: user.content, messages: [system, user], response }], whole - 2);
    expect(tooLong).toMatchObject({ sequences: [], chatRowsDropped: 1 });
  });

  it('leaves rows without a chat as before: one user turn', () => {
    const { sequences } = sftExamples(tokenizer, [{ prompt: 'plain question', response: 'answer' }], 512);
    const prompt = tokenizer.encodeChat([{ role: 'user', content: 'plain question' }], { addGenerationPrompt: true });
    expect(sequences[0].tokens.slice(0, prompt.length)).toEqual(prompt);
  });
});
