import { PairHeap } from './pair-heap';
import { MAX_VOCAB_SIZE, mergePair, pairKey, pairOf } from './pair-key';
import { pretokenize, type PretokenizerName } from './pretokenize';
import { FIRST_MERGE_ID, splitOnSpecialTokens } from './special-tokens';
import { ByteBpeTokenizer } from './tokenizer';

export interface TrainTokenizerOptions {
  /** Training texts; special-token strings inside them are cut out and never merged. */
  corpus: readonly string[];
  /** Total vocabulary: 256 bytes + 8 special tokens + merges. Training stops early only when every word is one token. */
  vocabSize: number;
  /** `words` (default): merges stay inside words; `phrases`: merges may cross spaces, only digit runs are cut. */
  pretokenizer?: PretokenizerName;
}

function countWords(corpus: readonly string[], pretokenizer: PretokenizerName): Map<string, number> {
  const counts = new Map<string, number>();
  for (const text of corpus) {
    for (const part of splitOnSpecialTokens(text)) {
      if (part.special !== undefined) continue;
      for (const word of pretokenize(part.text, pretokenizer)) counts.set(word, (counts.get(word) ?? 0) + 1);
    }
  }
  return counts;
}

/**
 * Deterministic byte-level BPE. Each step merges the most frequent adjacent pair (counted over distinct
 * pre-token words weighted by frequency); ties go to the lexicographically smallest (left id, right id).
 * Pair counts are updated incrementally: only words containing the merged pair are recounted, and a lazy
 * max-heap (stale entries skipped on pop) finds the next pair.
 */
export function trainTokenizer(options: TrainTokenizerOptions): ByteBpeTokenizer {
  const { corpus, vocabSize } = options;
  const pretokenizer = options.pretokenizer ?? 'words';
  if (!Array.isArray(corpus) || corpus.some((t) => typeof t !== 'string')) {
    throw new TypeError('trainTokenizer: corpus must be an array of strings');
  }
  if (!Number.isInteger(vocabSize) || vocabSize < FIRST_MERGE_ID || vocabSize > MAX_VOCAB_SIZE) {
    throw new RangeError(
      `trainTokenizer: vocabSize must be an integer in [${FIRST_MERGE_ID}, ${MAX_VOCAB_SIZE}], got ${vocabSize}`,
    );
  }
  const wordCounts = countWords(corpus, pretokenizer);
  const words: number[][] = [];
  const weights: number[] = [];
  for (const [word, count] of wordCounts) {
    words.push(Array.from(Buffer.from(word, 'utf8')));
    weights.push(count);
  }

  const pairCounts = new Map<number, number>();
  const pairWords = new Map<number, Set<number>>();
  const addPairs = (w: number, sign: 1 | -1, touched: Set<number>): void => {
    const symbols = words[w];
    for (let i = 0; i + 1 < symbols.length; i++) {
      const key = pairKey(symbols[i], symbols[i + 1]);
      pairCounts.set(key, (pairCounts.get(key) ?? 0) + sign * weights[w]);
      touched.add(key);
      if (sign === 1) {
        let set = pairWords.get(key);
        if (set === undefined) pairWords.set(key, (set = new Set()));
        set.add(w);
      }
    }
  };

  const heap = new PairHeap();
  const initial = new Set<number>();
  for (let w = 0; w < words.length; w++) addPairs(w, 1, initial);
  for (const key of initial) heap.push(pairCounts.get(key) as number, key);

  const merges: Array<[number, number]> = [];
  while (FIRST_MERGE_ID + merges.length < vocabSize) {
    const top = heap.pop();
    if (top === undefined) break;
    const current = pairCounts.get(top.key) ?? 0;
    if (current !== top.count) continue; // stale entry; the current count has its own entry
    const [left, right] = pairOf(top.key);
    const merged = FIRST_MERGE_ID + merges.length;
    merges.push([left, right]);
    const touched = new Set<number>();
    for (const w of pairWords.get(top.key) ?? []) {
      const next = mergePair(words[w], left, right, merged);
      if (next.length === words[w].length) continue; // the word no longer holds the pair
      addPairs(w, -1, touched);
      words[w] = next;
      addPairs(w, 1, touched);
    }
    pairWords.delete(top.key);
    for (const key of touched) {
      const count = pairCounts.get(key) as number;
      if (count > 0) heap.push(count, key);
      else pairCounts.delete(key);
    }
  }
  return new ByteBpeTokenizer(merges, pretokenizer);
}
