/**
 * GPT-2-like pre-tokenisation: contractions, letters, digits, other symbols (each optionally led by one
 * space), and whitespace runs. Merges never cross these pieces, so a token never spans two words.
 * Unicode-aware (\p{L}, \p{N}) so accented words and CJK runs stay whole.
 */
export const PRETOKENIZE_PATTERN = String.raw`'(?:[sdmt]|ll|ve|re)| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`;

/**
 * Phrase pre-tokenisation: only digit runs are cut out, so merges may cross spaces, punctuation and line
 * breaks and a fixed phrase such as `, you get ` can become one token, while every number stays its own
 * piece. Templated prompts (the games' rule lines) shrink several-fold.
 */
export const PHRASE_PRETOKENIZE_PATTERN = String.raw`\p{N}+|[^\p{N}]+`;

/** The pre-tokenisers a tokenizer can be trained with; `words` is the default and what every older tokenizer used. */
export const PRETOKENIZERS = { words: PRETOKENIZE_PATTERN, phrases: PHRASE_PRETOKENIZE_PATTERN } as const;

export type PretokenizerName = keyof typeof PRETOKENIZERS;

export function pretokenizerNamed(pattern: string): PretokenizerName {
  const name = (Object.keys(PRETOKENIZERS) as PretokenizerName[]).find((n) => PRETOKENIZERS[n] === pattern);
  if (name === undefined) throw new Error(`unknown pre-tokenisation pattern ${JSON.stringify(pattern)}`);
  return name;
}

const patterns: Record<PretokenizerName, RegExp> = {
  words: new RegExp(PRETOKENIZE_PATTERN, 'gu'),
  phrases: new RegExp(PHRASE_PRETOKENIZE_PATTERN, 'gu'),
};

export function pretokenize(text: string, pretokenizer: PretokenizerName = 'words'): string[] {
  return text.match(patterns[pretokenizer]) ?? [];
}
