/**
 * GPT-2-like pre-tokenisation: contractions, letters, digits, other symbols (each optionally led by one
 * space), and whitespace runs. Merges never cross these pieces, so a token never spans two words.
 * Unicode-aware (\p{L}, \p{N}) so accented words and CJK runs stay whole.
 */
export const PRETOKENIZE_PATTERN = String.raw`'(?:[sdmt]|ll|ve|re)| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`;

const pattern = new RegExp(PRETOKENIZE_PATTERN, 'gu');

export function pretokenize(text: string): string[] {
  return text.match(pattern) ?? [];
}
