import { choose, discountFactor, preferenceReversal } from './discounting';
import { certaintyEquivalent, expectedUtility, expectedValue } from './risk';

const coin = [
  { p: 0.5, x: 100 },
  { p: 0.5, x: 0 },
];

describe('expected value and certainty equivalents', () => {
  it('computes them for each supported utility', () => {
    expect(expectedValue(coin)).toBe(50);
    expect(certaintyEquivalent(coin, { kind: 'linear' })).toBe(50);
    // u = 2 sqrt(x): EU = 10, CE = 25
    expect(certaintyEquivalent(coin, { kind: 'crra', r: 0.5 })).toBeCloseTo(25, 10);
    // u = ln x: EU = ln 10, CE = 10
    expect(certaintyEquivalent([{ p: 0.5, x: 100 }, { p: 0.5, x: 1 }], { kind: 'crra', r: 1 })).toBeCloseTo(10, 10);
    // a = ln 2 on {0, 2}: CE = log2(1.6)
    expect(certaintyEquivalent([{ p: 0.5, x: 0 }, { p: 0.5, x: 2 }], { kind: 'cara', a: Math.LN2 })).toBeCloseTo(Math.log2(1.6), 10);
    // risk seeking: CE above EV
    expect(certaintyEquivalent(coin, { kind: 'cara', a: -0.05 })).toBeGreaterThan(50);
  });

  it('rejects bad lotteries and outcomes outside the utility domain', () => {
    expect(() => expectedValue([{ p: 0.5, x: 1 }])).toThrow('lottery: probabilities sum to 0.5, not 1');
    expect(() => expectedValue([{ p: 1.5, x: 1 }, { p: -0.5, x: 2 }])).toThrow('lottery[0]: probability 1.5 is not in [0, 1]');
    expect(() => expectedUtility(coin, { kind: 'crra', r: 1 })).toThrow(/outcome 0 is out of its domain/);
    expect(() => expectedUtility(coin, { kind: 'cara', a: 0 })).toThrow(/a=0/);
  });
});

describe('discounting', () => {
  const sooner = { amount: 100, t: 0 };
  const later = { amount: 150, t: 1 };

  it('weighs the future exponentially, hyperbolically and quasi-hyperbolically', () => {
    expect(discountFactor({ kind: 'exponential', delta: 0.9 }, 2)).toBeCloseTo(0.81, 12);
    expect(discountFactor({ kind: 'hyperbolic', k: 1 }, 3)).toBe(0.25);
    expect(discountFactor({ kind: 'quasi-hyperbolic', beta: 0.5, delta: 0.9 }, 0)).toBe(1);
    // 120 * 0.81 = 97.2 < 100; 130 * 0.81 = 105.3 > 100
    expect(choose({ kind: 'exponential', delta: 0.9 }, { amount: 100, t: 0 }, { amount: 120, t: 2 })).toBe('first');
    expect(choose({ kind: 'exponential', delta: 0.9 }, { amount: 100, t: 0 }, { amount: 130, t: 2 })).toBe('second');
    expect(choose({ kind: 'exponential', delta: 1 }, { amount: 100, t: 0 }, { amount: 100, t: 5 })).toBe('indifferent');
  });

  it('reverses preferences under present bias but never exponentially', () => {
    // hyperbolic k = 1: 100 vs 75 now (sooner); 100/11 vs 150/12 ten periods out (later)
    expect(preferenceReversal({ kind: 'hyperbolic', k: 1 }, sooner, later, 10)).toEqual({ near: 'first', far: 'second', reverses: true });
    expect(preferenceReversal({ kind: 'quasi-hyperbolic', beta: 0.5, delta: 1 }, sooner, later, 1)).toEqual({ near: 'first', far: 'second', reverses: true });
    expect(preferenceReversal({ kind: 'exponential', delta: 0.5 }, sooner, later, 10)).toEqual({ near: 'first', far: 'first', reverses: false });
  });

  it('rejects parameters outside their range', () => {
    expect(() => discountFactor({ kind: 'exponential', delta: 1.2 }, 1)).toThrow('exponential discounting: delta=1.2 is not in (0, 1]');
    expect(() => discountFactor({ kind: 'hyperbolic', k: 1 }, -1)).toThrow('discounting: delay -1 must be a finite number >= 0');
  });
});
