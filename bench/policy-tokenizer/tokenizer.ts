/**
 * Tokenizer benchmark: trains 512- and 2048-token vocabularies on ~1 MB of the real CoT traces
 * (incremental trainer vs the full-recount reference, same process, ratio printed) and encodes the whole
 * CoT set with a cold word cache. Run: npm run build && node dist/bench/policy-tokenizer/tokenizer.js
 */
import { resolve } from 'node:path';
import { importDataset, type TraceRow } from '@recon/econ';
import { ByteBpeTokenizer, trainTokenizer } from '../../libs/policy/src/tokenizer';
import { referenceMerges } from '../../libs/policy/src/tokenizer/reference-train';

const COT = resolve(process.cwd(), '../shared/recon-data/sft_cot_dataset.csv');
const time = <T>(fn: () => T): [T, number] => {
  const start = process.hrtime.bigint();
  const value = fn();
  return [value, Number(process.hrtime.bigint() - start) / 1e6];
};

const rows = importDataset(COT, { skipInvalid: true }).rows as TraceRow[];
const texts = rows.flatMap((r) => [r.prompt, r.response]);
const corpus: string[] = [];
let corpusBytes = 0;
for (const text of texts) {
  if (corpusBytes >= 1_000_000) break;
  corpus.push(text);
  corpusBytes += Buffer.byteLength(text, 'utf8');
}
console.log(
  `CoT rows: ${rows.length}; training corpus: ${corpus.length} texts, ${(corpusBytes / 1e6).toFixed(2)} MB`,
);

let trained: ByteBpeTokenizer | undefined;
for (const vocabSize of [512, 2048]) {
  const [tokenizer, ms] = time(() => trainTokenizer({ corpus, vocabSize }));
  const [reference, refMs] = time(() => referenceMerges(corpus, vocabSize));
  const same = JSON.stringify(reference) === JSON.stringify(tokenizer.toJSON().merges);
  console.log(
    `train vocab ${vocabSize}: incremental ${(ms / 1000).toFixed(2)} s, full-recount reference ${(refMs / 1000).toFixed(2)} s, ` +
      `speed-up x${(refMs / ms).toFixed(1)}, identical merges: ${same}`,
  );
  trained = tokenizer;
}

const tokenizer = ByteBpeTokenizer.fromJSON((trained as ByteBpeTokenizer).toJSON()); // cold word cache
const allBytes = texts.reduce((n, t) => n + Buffer.byteLength(t, 'utf8'), 0);
const [tokens, encodeMs] = time(() => texts.reduce((n, t) => n + tokenizer.encode(t).length, 0));
const [, warmMs] = time(() => texts.reduce((n, t) => n + tokenizer.encode(t).length, 0));
console.log(
  `encode CoT set (${rows.length} rows, ${(allBytes / 1e6).toFixed(2)} MB) with vocab ${tokenizer.vocabSize}: ` +
    `${(encodeMs / 1000).toFixed(2)} s cold, ${(warmMs / 1000).toFixed(2)} s warm cache (x${(encodeMs / warmMs).toFixed(1)}); ` +
    `${tokens} tokens, ${(allBytes / tokens).toFixed(2)} bytes/token, ${(tokens / (encodeMs / 1000) / 1e3).toFixed(0)}k tokens/s cold`,
);
console.log(`peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`);
