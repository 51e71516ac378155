import { Mulberry32 } from '@recon/random';

/** What a subset of a dataset holds: how it was drawn, and per category how many of how many rows. */
export interface SampleRecord {
  /** `all`: every row (the subset asked for is not smaller than the set); `stratified`: see stratifiedSample. */
  method: 'all' | 'stratified';
  /** Rows the set holds, and rows drawn. */
  of: number;
  items: number;
  seed: number;
  byCategory: Record<string, { sampled: number; of: number }>;
}

export interface Sample<T> {
  /** The rows drawn, in the set's order. */
  rows: T[];
  indices: number[];
  record: SampleRecord;
}

/**
 * `size` rows of `rows` (all of them when size is absent or not smaller), stratified by category: each
 * category gets its share of `size` in proportion to its rows (largest remainders; ties broken in a seeded
 * order of the categories), and its rows are a seeded draw among its own. The same rows, size and seed always
 * give the same subset, whatever order the categories come in (a file ordered in category blocks included).
 */
export function stratifiedSample<T>(
  rows: readonly T[],
  size: number | undefined,
  seed: number,
  categoryOf: (row: T) => string,
): Sample<T> {
  const byCategory = new Map<string, number[]>();
  rows.forEach((row, i) => {
    const category = categoryOf(row);
    byCategory.set(category, [...(byCategory.get(category) ?? []), i]);
  });
  const categories = [...byCategory.keys()].sort();
  const counts = (sampled: (category: string) => number) =>
    Object.fromEntries(categories.map((c) => [c, { sampled: sampled(c), of: byCategory.get(c)!.length }]));
  if (size === undefined || size >= rows.length) {
    const indices = rows.map((_, i) => i);
    return {
      rows: [...rows],
      indices,
      record: {
        method: 'all',
        of: rows.length,
        items: rows.length,
        seed,
        byCategory: counts((c) => byCategory.get(c)!.length),
      },
    };
  }
  if (!Number.isInteger(size) || size < 0)
    throw new Error(`stratifiedSample: size must be a non-negative integer, got ${size}`);
  const rng = new Mulberry32(seed);
  const tieOrder = rng.permutation(categories.length);
  const quota = new Map<string, number>();
  const remainders: Array<{ category: string; remainder: number; tie: number }> = [];
  let given = 0;
  categories.forEach((category, k) => {
    const exact = (size * byCategory.get(category)!.length) / rows.length;
    quota.set(category, Math.floor(exact));
    given += Math.floor(exact);
    remainders.push({ category, remainder: exact - Math.floor(exact), tie: tieOrder[k] });
  });
  remainders.sort((a, b) => b.remainder - a.remainder || a.tie - b.tie);
  for (const { category } of remainders.slice(0, size - given)) quota.set(category, quota.get(category)! + 1);
  const indices: number[] = [];
  for (const category of categories) {
    const members = byCategory.get(category)!;
    const order = rng.permutation(members.length);
    indices.push(...order.slice(0, quota.get(category)).map((k) => members[k]));
  }
  indices.sort((a, b) => a - b);
  return {
    rows: indices.map((i) => rows[i]),
    indices,
    record: {
      method: 'stratified',
      of: rows.length,
      items: size,
      seed,
      byCategory: counts((c) => quota.get(c)!),
    },
  };
}
