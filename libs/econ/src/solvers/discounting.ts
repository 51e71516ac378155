/**
 * How a future amount is weighed: exponential δ^t (time consistent), hyperbolic 1/(1+kt), or quasi-hyperbolic
 * (β-δ: 1 now, βδ^t later), the last two present-biased.
 */
export type Discounting =
  | { kind: 'exponential'; delta: number }
  | { kind: 'hyperbolic'; k: number }
  | { kind: 'quasi-hyperbolic'; beta: number; delta: number };

export interface Dated {
  amount: number;
  /** Delay in periods from now (>= 0). */
  t: number;
}

export function discountFactor(d: Discounting, t: number): number {
  if (!(t >= 0) || !Number.isFinite(t)) throw new Error(`discounting: delay ${t} must be a finite number >= 0`);
  switch (d.kind) {
    case 'exponential':
      if (!(d.delta > 0 && d.delta <= 1)) throw new Error(`exponential discounting: delta=${d.delta} is not in (0, 1]`);
      return d.delta ** t;
    case 'hyperbolic':
      if (!(d.k >= 0)) throw new Error(`hyperbolic discounting: k=${d.k} must be >= 0`);
      return 1 / (1 + d.k * t);
    case 'quasi-hyperbolic':
      if (!(d.beta > 0 && d.beta <= 1)) throw new Error(`quasi-hyperbolic discounting: beta=${d.beta} is not in (0, 1]`);
      if (!(d.delta > 0 && d.delta <= 1)) throw new Error(`quasi-hyperbolic discounting: delta=${d.delta} is not in (0, 1]`);
      return t === 0 ? 1 : d.beta * d.delta ** t;
  }
}

export function presentValue(d: Discounting, x: Dated): number {
  return x.amount * discountFactor(d, x.t);
}

export type Choice = 'first' | 'second' | 'indifferent';

export function choose(d: Discounting, first: Dated, second: Dated): Choice {
  const [a, b] = [presentValue(d, first), presentValue(d, second)];
  return a > b ? 'first' : b > a ? 'second' : 'indifferent';
}

/**
 * Smaller-sooner vs larger-later, asked now and again with both dates pushed back by `shift`. Exponential
 * discounting never reverses; present bias can (take the sooner amount now, but plan to wait when both are far).
 */
export function preferenceReversal(d: Discounting, sooner: Dated, later: Dated, shift: number): { near: Choice; far: Choice; reverses: boolean } {
  const near = choose(d, sooner, later);
  const far = choose(d, { ...sooner, t: sooner.t + shift }, { ...later, t: later.t + shift });
  return { near, far, reverses: near !== 'indifferent' && far !== 'indifferent' && near !== far };
}
