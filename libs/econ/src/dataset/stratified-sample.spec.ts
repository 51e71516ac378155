import { join } from 'node:path';
import { tagProblem } from '../tagger/tagger';
import { importDataset, type ProblemRow } from './recon-dataset';
import { stratifiedSample } from './stratified-sample';

const EVAL = join(__dirname, '../../../../../shared/recon-data/eval_dataset.csv');

describe('stratifiedSample', () => {
  // Recon-Eval is stored in blocks of 20 rows per category: its first 30 rows span 2 of its 15 categories.
  const rows = importDataset(EVAL).rows as ProblemRow[];
  const categoryOf = (row: ProblemRow) => tagProblem(row.messages.map((m) => m.content).join('\n'));

  it('covers every category of a file ordered in category blocks, in proportion', () => {
    const sample = stratifiedSample(rows, 30, 7, categoryOf);
    expect(sample.rows).toHaveLength(30);
    expect(new Set(sample.rows.map(categoryOf)).size).toBe(15);
    expect(Object.values(sample.record.byCategory)).toEqual(Array(15).fill({ sampled: 2, of: 20 }));
    expect(sample.record).toMatchObject({ method: 'stratified', of: 300, items: 30, seed: 7 });
    expect(sample.indices).toEqual([...sample.indices].sort((a, b) => a - b));
    expect(sample.rows).toEqual(sample.indices.map((i) => rows[i]));
  });

  it('is deterministic in its seed', () => {
    const again = stratifiedSample(rows, 30, 7, categoryOf);
    expect(again.indices).toEqual(stratifiedSample(rows, 30, 7, categoryOf).indices);
    expect(stratifiedSample(rows, 30, 8, categoryOf).indices).not.toEqual(again.indices);
    const shares = stratifiedSample(rows, 17, 7, categoryOf).record.byCategory;
    expect(Object.values(shares).reduce((n, c) => n + c.sampled, 0)).toBe(17);
    expect(Object.values(shares).every((c) => c.sampled === 1 || c.sampled === 2)).toBe(true);
  });

  it('gives shares in proportion to unequal categories, and every row when the size is not smaller', () => {
    const items = [...Array(60).fill('a'), ...Array(30).fill('b'), ...Array(10).fill('c')] as string[];
    expect(stratifiedSample(items, 10, 1, (x) => x).record.byCategory).toEqual({
      a: { sampled: 6, of: 60 },
      b: { sampled: 3, of: 30 },
      c: { sampled: 1, of: 10 },
    });
    const all = stratifiedSample(items, 100, 1, (x) => x);
    expect(all.record).toMatchObject({ method: 'all', items: 100, of: 100 });
    expect(all.indices).toEqual(items.map((_, i) => i));
    expect(stratifiedSample(items, undefined, 1, (x) => x).record.method).toBe('all');
  });
});
