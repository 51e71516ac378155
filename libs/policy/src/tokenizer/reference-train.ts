import { mergePair, pairKey, pairOf } from './pair-key';
import { pretokenize } from './pretokenize';
import { FIRST_MERGE_ID, splitOnSpecialTokens } from './special-tokens';

/**
 * The textbook trainer: recount every pair over every word before each merge. Slow (O(merges x corpus))
 * but obviously right; the tests check the incremental trainer against it and the benchmark uses it as
 * the baseline. Same tie rule: highest count, then the smallest (left, right).
 */
export function referenceMerges(corpus: readonly string[], vocabSize: number): Array<[number, number]> {
  const counts = new Map<string, number>();
  for (const text of corpus) {
    for (const part of splitOnSpecialTokens(text)) {
      if (part.special === undefined)
        for (const w of pretokenize(part.text)) counts.set(w, (counts.get(w) ?? 0) + 1);
    }
  }
  let words = [...counts].map(([w, c]) => ({ symbols: Array.from(Buffer.from(w, 'utf8')), count: c }));
  const merges: Array<[number, number]> = [];
  while (FIRST_MERGE_ID + merges.length < vocabSize) {
    const pairs = new Map<number, number>();
    for (const { symbols, count } of words) {
      for (let i = 0; i + 1 < symbols.length; i++) {
        const key = pairKey(symbols[i], symbols[i + 1]);
        pairs.set(key, (pairs.get(key) ?? 0) + count);
      }
    }
    let bestKey = -1;
    let bestCount = 0;
    for (const [key, count] of pairs) {
      if (count > bestCount || (count === bestCount && key < bestKey)) {
        bestKey = key;
        bestCount = count;
      }
    }
    if (bestKey < 0) break;
    const [a, b] = pairOf(bestKey);
    const merged = FIRST_MERGE_ID + merges.length;
    merges.push([a, b]);
    words = words.map(({ symbols, count }) => ({ symbols: mergePair(symbols, a, b, merged), count }));
  }
  return merges;
}
