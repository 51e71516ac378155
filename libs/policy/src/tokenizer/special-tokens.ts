/** Ids 0..255 are the raw bytes; the special tokens follow at fixed ids; merges start after them. */
export const BYTE_TOKENS = 256;

export const SPECIAL_TOKENS = [
  '<|pad|>',
  '<|bos|>',
  '<|eos|>',
  '<|system|>',
  '<|user|>',
  '<|assistant|>',
  '<think>',
  '</think>',
] as const;

export type SpecialToken = (typeof SPECIAL_TOKENS)[number];

export const FIRST_MERGE_ID = BYTE_TOKENS + SPECIAL_TOKENS.length;

export interface SpecialTokenIds {
  pad: number;
  bos: number;
  eos: number;
  system: number;
  user: number;
  assistant: number;
  thinkStart: number;
  thinkEnd: number;
}

const idOf = (token: SpecialToken): number => BYTE_TOKENS + SPECIAL_TOKENS.indexOf(token);

export const SPECIAL_TOKEN_IDS: Readonly<SpecialTokenIds> = Object.freeze({
  pad: idOf('<|pad|>'),
  bos: idOf('<|bos|>'),
  eos: idOf('<|eos|>'),
  system: idOf('<|system|>'),
  user: idOf('<|user|>'),
  assistant: idOf('<|assistant|>'),
  thinkStart: idOf('<think>'),
  thinkEnd: idOf('</think>'),
});

export const isSpecialId = (id: number): boolean => id >= BYTE_TOKENS && id < FIRST_MERGE_ID;

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Splits text into alternating ordinary segments and special tokens (matched exactly, longest first). */
const specialPattern = new RegExp(
  `(${[...SPECIAL_TOKENS]
    .sort((a, b) => b.length - a.length)
    .map(escape)
    .join('|')})`,
  'g',
);

export function splitOnSpecialTokens(text: string): Array<{ text: string; special: number | undefined }> {
  const parts: Array<{ text: string; special: number | undefined }> = [];
  for (const [i, piece] of text.split(specialPattern).entries()) {
    if (piece === '') continue;
    // String.split with one capture group puts the captured separators at odd indices.
    parts.push({ text: piece, special: i % 2 === 1 ? idOf(piece as SpecialToken) : undefined });
  }
  return parts;
}
