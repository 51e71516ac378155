import { pairOutcomes, pairedDifference } from './paired-difference';

describe('pairedDifference', () => {
  it("matches Newcombe's (1998) worked example for paired proportions", () => {
    // Newcombe, Statistics in Medicine 17:2635 (1998), and Altman et al., Statistics with Confidence, p. 52:
    // a=36, b=12, c=2, d=0, first minus second = 0.2000, method 10 interval 0.0569 to 0.3404. Here the
    // difference is second minus first.
    const result = pairedDifference({ both: 36, firstOnly: 12, secondOnly: 2, neither: 0 });
    expect(result.difference).toBeCloseTo(-0.2, 10);
    expect(result.low).toBeCloseTo(-0.3404, 4);
    expect(result.high).toBeCloseTo(-0.0569, 4);
  });

  it('gives the exact two-sided McNemar p-value', () => {
    // b=14, c=21: 2 * P(X <= 14), X ~ Binomial(35, 1/2) = 0.3105 (scipy.stats.binomtest).
    expect(pairedDifference({ both: 57, firstOnly: 14, secondOnly: 21, neither: 158 }).pValue).toBeCloseTo(
      0.3105,
      4,
    );
    expect(pairedDifference({ both: 5, firstOnly: 0, secondOnly: 0, neither: 5 }).pValue).toBe(1);
    // Large counts stay finite (no 2^m overflow).
    const large = pairedDifference({ both: 0, firstOnly: 600, secondOnly: 700, neither: 0 });
    expect(large.pValue).toBeGreaterThan(0);
    expect(large.pValue).toBeLessThan(0.01);
  });

  it('excludes zero only when the gain is clear', () => {
    const clear = pairedDifference({ both: 50, firstOnly: 2, secondOnly: 30, neither: 168 });
    expect(clear.low).toBeGreaterThan(0);
    const unclear = pairedDifference({ both: 57, firstOnly: 14, secondOnly: 21, neither: 158 });
    expect(unclear.low).toBeLessThan(0);
    expect(unclear.high).toBeGreaterThan(0);
    expect(unclear.difference).toBeCloseTo(0.028, 10);
  });

  it('pairs items by id, leaving out those one side lacks', () => {
    const first = new Map([
      ['a', true],
      ['b', true],
      ['c', false],
      ['d', false],
      ['only-first', true],
    ]);
    const second = new Map([
      ['a', true],
      ['b', false],
      ['c', true],
      ['d', false],
    ]);
    expect(pairOutcomes(first, second)).toEqual({ both: 1, firstOnly: 1, secondOnly: 1, neither: 1 });
  });

  it('refuses counts that are not non-negative integers, naming the field', () => {
    expect(() => pairedDifference({ both: 1, firstOnly: -1, secondOnly: 0, neither: 0 })).toThrow(
      /firstOnly/,
    );
  });
});
