/** A lottery: outcomes with probabilities summing to 1. */
export type Lottery = ReadonlyArray<{ p: number; x: number }>;

/**
 * Supported utility functions (increasing):
 * - `linear`: u(x) = x (risk neutral; the certainty equivalent is the expected value);
 * - `crra` with relative risk aversion r >= 0: u(x) = x^(1-r)/(1-r), ln x when r = 1 (outcomes must be > 0,
 *   or >= 0 when r < 1);
 * - `cara` with absolute risk aversion a != 0: u(x) = (1 - e^(-a x))/a (a > 0 averse, a < 0 seeking).
 */
export type Utility = { kind: 'linear' } | { kind: 'crra'; r: number } | { kind: 'cara'; a: number };

export function validateLottery(lottery: Lottery, where = 'lottery'): void {
  if (lottery.length === 0) throw new Error(`${where}: has no outcomes`);
  lottery.forEach(({ p, x }, k) => {
    if (!(p >= 0 && p <= 1)) throw new Error(`${where}[${k}]: probability ${p} is not in [0, 1]`);
    if (!Number.isFinite(x)) throw new Error(`${where}[${k}]: outcome ${x} is not a finite number`);
  });
  const total = lottery.reduce((s, o) => s + o.p, 0);
  if (Math.abs(total - 1) > 1e-9) throw new Error(`${where}: probabilities sum to ${total}, not 1`);
}

export function expectedValue(lottery: Lottery): number {
  validateLottery(lottery);
  return lottery.reduce((s, o) => s + o.p * o.x, 0);
}

function checkUtility(u: Utility, x: number): void {
  if (u.kind === 'crra') {
    if (!(u.r >= 0)) throw new Error(`crra utility: r=${u.r} must be >= 0`);
    if (u.r >= 1 ? !(x > 0) : !(x >= 0)) throw new Error(`crra utility with r=${u.r}: outcome ${x} is out of its domain`);
  }
  if (u.kind === 'cara' && !(u.a !== 0 && Number.isFinite(u.a))) throw new Error(`cara utility: a=${u.a} must be a non-zero number`);
}

export function utility(u: Utility, x: number): number {
  checkUtility(u, x);
  switch (u.kind) {
    case 'linear':
      return x;
    case 'crra':
      return u.r === 1 ? Math.log(x) : x ** (1 - u.r) / (1 - u.r);
    case 'cara':
      return (1 - Math.exp(-u.a * x)) / u.a;
  }
}

function inverseUtility(u: Utility, v: number): number {
  switch (u.kind) {
    case 'linear':
      return v;
    case 'crra':
      return u.r === 1 ? Math.exp(v) : (v * (1 - u.r)) ** (1 / (1 - u.r));
    case 'cara':
      return -Math.log(1 - u.a * v) / u.a;
  }
}

export function expectedUtility(lottery: Lottery, u: Utility): number {
  validateLottery(lottery);
  return lottery.reduce((s, o) => s + o.p * utility(u, o.x), 0);
}

/** The sure amount with the lottery's expected utility. */
export function certaintyEquivalent(lottery: Lottery, u: Utility): number {
  return inverseUtility(u, expectedUtility(lottery, u));
}
