import { DataCursor, groupOrderByLength } from './data-cursor';
import { Rng } from './rng';

const lengths = Array.from({ length: 200 }, (_, i) => ((i * 37) % 97) + 3);

describe('DataCursor with length grouping', () => {
  const grouping = { lengths, batchSize: 8, windowBatches: 5 };

  it('serves every example once per epoch', () => {
    const cursor = new DataCursor(lengths.length, 11, grouping);
    expect([...cursor.take(lengths.length)].sort((a, b) => a - b)).toEqual(lengths.map((_, i) => i));
  });

  it('pads far less than plain shuffled batches', () => {
    const padding = (order: number[]) => {
      let padded = 0;
      for (let k = 0; k < order.length; k += 8) {
        const batch = order.slice(k, k + 8).map((i) => lengths[i]);
        padded += batch.length * Math.max(...batch) - batch.reduce((a, b) => a + b, 0);
      }
      return padded;
    };
    const plain = new DataCursor(lengths.length, 11).take(lengths.length);
    const grouped = new DataCursor(lengths.length, 11, grouping).take(lengths.length);
    expect(padding(grouped)).toBeLessThan(padding(plain) / 3);
  });

  it('keeps each batch inside one window and sorted by length', () => {
    const order = groupOrderByLength(new Rng(3).permutation(80), { lengths, batchSize: 8, windowBatches: 5 }, new Rng(4));
    for (let k = 0; k < order.length; k += 8) {
      const batch = order.slice(k, k + 8).map((i) => lengths[i]);
      expect(batch).toEqual([...batch].sort((a, b) => b - a));
    }
    expect(new Set(order.slice(0, 40)).size).toBe(40);
  });

  it('restores to the same walk from a saved position, across an epoch boundary', () => {
    const original = new DataCursor(lengths.length, 5, grouping);
    original.take(130);
    const position = original.getPosition();
    const rng = original.getRngState();
    const restored = DataCursor.restore(lengths.length, position, rng, grouping);
    expect(restored.take(300)).toEqual(original.take(300));
  });

  it('is a different, seeded order from the plain cursor, and the plain cursor is unchanged by the option', () => {
    const a = new DataCursor(lengths.length, 9).take(50);
    const b = new DataCursor(lengths.length, 9).take(50);
    expect(a).toEqual(b);
    expect(new DataCursor(lengths.length, 9, grouping).take(50)).not.toEqual(a);
  });

  it('refuses lengths that do not match the dataset', () => {
    expect(() => new DataCursor(10, 1, { lengths: [1, 2], batchSize: 2, windowBatches: 2 })).toThrow(/2 lengths for a dataset of 10/);
  });
});
