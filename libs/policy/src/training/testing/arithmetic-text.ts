import { TokenSequence } from '../batching';
import { Rng } from '../rng';

/** Character vocabulary of the generated text; id 0 is padding. */
export const ARITHMETIC_VOCAB = ['<pad>', ...'0123456789+-=;?'];

/**
 * Deterministic generated text for training tests: prompt "a+b=?" and completion "c;" where c = a+b
 * (or a-b), so the completion is predictable from the prompt and a model can learn it.
 */
export function arithmeticSequences(count: number, seed: number): TokenSequence[] {
  const rng = new Rng(seed);
  const id = (ch: string) => ARITHMETIC_VOCAB.indexOf(ch);
  return Array.from({ length: count }, () => {
    const a = Math.floor(rng.next() * 10);
    const b = Math.floor(rng.next() * 10);
    const plus = rng.next() < 0.5;
    const prompt = `${a}${plus ? '+' : '-'}${b}=?`;
    const completion = `${plus ? a + b : a - b};`;
    const tokens = [...prompt, ...completion].map(id);
    return { tokens, completionStart: prompt.length };
  });
}
