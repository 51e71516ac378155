import fc from 'fast-check';
import { groupAdvantages, mean } from './advantages';
import { DataCursor } from './data-cursor';
import { LrSchedule } from './schedule';

describe('properties', () => {
  test('advantages sum to zero within every group, for every scale option', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 1, max: 4 }),
        fc.array(fc.double({ min: -10, max: 10, noNaN: true }), { minLength: 24, maxLength: 24 }),
        fc.constantFrom('group' as const, 'batch' as const, 'none' as const),
        fc.boolean(),
        (g, groups, pool, scaleRewards, unbiasedStd) => {
          const rewards = pool.slice(0, g * groups);
          const { advantages } = groupAdvantages(rewards, {
            numGenerations: g,
            scaleRewards,
            unbiasedStd,
            epsilon: 1e-4,
          });
          for (let i = 0; i < groups; i++) {
            expect(Math.abs(mean(advantages.slice(i * g, (i + 1) * g)))).toBeLessThan(1e-6);
          }
          if (scaleRewards === 'none') {
            rewards.forEach((r, row) => {
              const group = rewards.slice(Math.floor(row / g) * g, Math.floor(row / g) * g + g);
              expect(advantages[row]).toBeCloseTo(r - mean(group), 9);
            });
          }
        },
      ),
    );
  });

  test('every epoch of the data cursor visits each example exactly once; restore continues identically', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }),
        fc.integer(),
        fc.integer({ min: 0, max: 100 }),
        (size, seed, split) => {
          const cursor = new DataCursor(size, seed);
          const twoEpochs = cursor.take(2 * size);
          expect([...twoEpochs.slice(0, size)].sort((a, b) => a - b)).toEqual([...Array(size).keys()]);
          expect([...twoEpochs.slice(size)].sort((a, b) => a - b)).toEqual([...Array(size).keys()]);
          const a = new DataCursor(size, seed);
          a.take(split);
          const b = DataCursor.restore(size, a.getPosition(), a.getRngState());
          expect(b.take(3 * size)).toEqual(a.take(3 * size));
        },
      ),
    );
  });

  test('schedules stay within [0, lr] and never rise after warmup', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('linear' as const, 'cosine' as const),
        fc.integer({ min: 1, max: 200 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (type, totalSteps, warmupRatio) => {
          const s = new LrSchedule({ type, learningRate: 1, totalSteps, warmupRatio });
          let previous = Infinity;
          for (let k = 0; k <= totalSteps; k++) {
            const f = s.factor(k);
            expect(f).toBeGreaterThanOrEqual(0);
            expect(f).toBeLessThanOrEqual(1);
            if (k >= s.warmupSteps) {
              expect(f).toBeLessThanOrEqual(previous + 1e-12);
              previous = f;
            }
          }
        },
      ),
    );
  });
});
