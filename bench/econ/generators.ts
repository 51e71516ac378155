/**
 * Curriculum generator throughput: items/s per category and style in one process, with the mean prompt + trace
 * length (characters), the longest, and the majority-label share (option number for choices, literal otherwise).
 * Then compact lengths in tokens of a byte-level BPE (vocabulary 512, the built-in policy's small preset) trained
 * on compact train items and measured on compact test items.
 *   npm run build && node dist/bench/econ/generators.js [--count N]
 */
import { performance } from 'node:perf_hooks';
import { CURRICULUM_CATEGORY_NAMES, generateCurriculum, type CurriculumItem } from '@recon/econ';
import { trainTokenizer } from '@recon/policy';

const count = Number(process.argv[process.argv.indexOf('--count') + 1] || 0) || 2000;

const label = (answer: string) => /^Option (\d+)/.exec(answer)?.[1] ?? answer;

function majority(items: readonly CurriculumItem[]): number {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(label(item.answer), (counts.get(label(item.answer)) ?? 0) + 1);
  return Math.max(...counts.values()) / items.length;
}

const rows: string[][] = [['category', 'style', 'items/s', 'chars mean', 'chars max', 'majority']];
for (const style of ['compact', 'full'] as const) {
  for (const category of CURRICULUM_CATEGORY_NAMES) {
    generateCurriculum({ categories: [category], split: 'train', count: 50, seed: 0, style }); // warm-up
    const start = performance.now();
    const items = generateCurriculum({ categories: [category], split: 'train', count, seed: 1, style });
    const seconds = (performance.now() - start) / 1000;
    const lengths = items.map((i) => i.prompt.length + i.trace.length);
    rows.push([
      category,
      style,
      String(Math.round(items.length / seconds)),
      String(Math.round(lengths.reduce((a, b) => a + b, 0) / lengths.length)),
      String(Math.max(...lengths)),
      `${(majority(items) * 100).toFixed(1)}%`,
    ]);
  }
}
const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
console.log(`curriculum generators, ${count} train items per category and style (node ${process.version})`);
for (const r of rows) console.log(r.map((cell, c) => (c < 2 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  '));

const tokenizer = trainTokenizer({
  corpus: generateCurriculum({ split: 'train', count: 500, seed: 2, style: 'compact' }).map((i) => `${i.prompt}\n${i.trace}`),
  vocabSize: 512,
});
console.log('\ncompact prompt + trace in BPE-512 tokens (500 test items per category)');
for (const category of CURRICULUM_CATEGORY_NAMES) {
  const counts = generateCurriculum({ categories: [category], split: 'test', count: 500, seed: 3, style: 'compact' }).map(
    (i) => tokenizer.encode(i.prompt).length + tokenizer.encode(i.trace).length,
  );
  console.log(`${category.padEnd(widths[0])}  mean ${Math.round(counts.reduce((a, b) => a + b, 0) / counts.length)}  max ${Math.max(...counts)}`);
}
