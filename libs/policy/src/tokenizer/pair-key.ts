/** Token ids stay below 2^21, so a pair packs exactly into one double; key order = (left, right) order. */
export const MAX_VOCAB_SIZE = 1 << 21;

export const pairKey = (left: number, right: number): number => left * MAX_VOCAB_SIZE + right;

export const pairOf = (key: number): [number, number] => [
  Math.floor(key / MAX_VOCAB_SIZE),
  key % MAX_VOCAB_SIZE,
];

/** Replaces every non-overlapping occurrence of (left, right), scanning left to right, by `merged`. */
export function mergePair(symbols: readonly number[], left: number, right: number, merged: number): number[] {
  const out: number[] = [];
  let i = 0;
  while (i < symbols.length) {
    if (i + 1 < symbols.length && symbols[i] === left && symbols[i + 1] === right) {
      out.push(merged);
      i += 2;
    } else {
      out.push(symbols[i]);
      i += 1;
    }
  }
  return out;
}
