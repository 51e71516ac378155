import { partitionRows } from './partition';

const cost = (lengths: readonly number[], part: readonly number[]) =>
  part.length * Math.max(...part.map((i) => lengths[i])) * (Math.max(...part.map((i) => lengths[i])) + 360);

/** A deterministic spread of lengths: mostly short rows, a few long ones. */
function lengthsOf(seed: number, n: number): number[] {
  let x = seed;
  const next = () => (x = (x * 1103515245 + 12345) % 2147483648) / 2147483648;
  return Array.from({ length: n }, () =>
    next() < 0.15 ? 300 + Math.floor(next() * 200) : 60 + Math.floor(next() * 120),
  );
}

describe('partitionRows', () => {
  test('contiguous: consecutive rows in equal counts, as before the option', () => {
    expect(partitionRows([5, 4, 3, 2, 1], 2, 'contiguous')).toEqual([
      [0, 1, 2],
      [3, 4],
    ]);
    expect(partitionRows([1, 1, 1, 1, 1], 4, 'contiguous')).toEqual([[0, 1], [2, 3], [4]]);
    expect(partitionRows([7], 2, 'contiguous')).toEqual([[0]]);
    expect(partitionRows([], 2, 'contiguous')).toEqual([]);
  });

  test('balanced: one long row among short ones gets a part with fewer rows', () => {
    const lengths = [100, 100, 100, 400, 100, 100, 100, 100];
    const parts = partitionRows(lengths, 2, 'balanced');
    expect(parts).toHaveLength(2);
    const withLong = parts.find((p) => p.includes(3))!;
    expect(withLong.length).toBeLessThan(4);
    expect(withLong).toEqual([...withLong].sort((a, b) => a - b));
  });

  test('balanced: equal lengths split as evenly as contiguous', () => {
    expect(partitionRows([50, 50, 50, 50], 2, 'balanced').map((p) => p.length)).toEqual([2, 2]);
  });

  test.each([2, 3, 4])(
    'balanced (%i parts): every row once, no empty part, costliest part never above contiguous',
    (split) => {
      for (let seed = 1; seed <= 40; seed++) {
        const lengths = lengthsOf(seed, 8 + (seed % 57));
        const balanced = partitionRows(lengths, split, 'balanced');
        const contiguous = partitionRows(lengths, split, 'contiguous');
        expect(balanced.flat().sort((a, b) => a - b)).toEqual(lengths.map((_, i) => i));
        expect(balanced.length).toBe(Math.min(split, lengths.length));
        for (const part of balanced) expect(part.length).toBeGreaterThan(0);
        const worst = (parts: number[][]) => Math.max(...parts.map((p) => cost(lengths, p)));
        expect(worst(balanced)).toBeLessThanOrEqual(worst(contiguous));
      }
    },
  );

  test('balanced is a pure function of the lengths', () => {
    const lengths = lengthsOf(9, 64);
    expect(partitionRows(lengths, 2, 'balanced')).toEqual(partitionRows([...lengths], 2, 'balanced'));
  });

  test('a split below 1 is refused', () => {
    expect(() => partitionRows([1, 2], 0, 'balanced')).toThrow(/split must be >= 1, got 0/);
  });
});
