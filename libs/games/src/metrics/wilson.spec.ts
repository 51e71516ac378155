import { wilson } from './wilson';

describe('wilson', () => {
  it('matches known 95% intervals', () => {
    const half = wilson(10, 20);
    expect(half.rate).toBe(0.5);
    expect(half.low).toBeCloseTo(0.2993, 4);
    expect(half.high).toBeCloseTo(0.7007, 4);
    const none = wilson(0, 20);
    expect(none.low).toBe(0);
    expect(none.high).toBeCloseTo(0.1611, 4);
    expect(wilson(20, 20).high).toBe(1);
  });

  it('refuses impossible counts', () => {
    expect(() => wilson(3, 2)).toThrow(RangeError);
    expect(() => wilson(-1, 2)).toThrow(/0 <= successes <= trials/);
  });
});
