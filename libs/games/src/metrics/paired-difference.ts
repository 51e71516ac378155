import { wilson } from './wilson';

/** Two evaluations of the same items: how many each got right, and where they disagree. */
export interface PairedOutcomes {
  /** Right in both. */
  both: number;
  /** Right only in the first (lost by the second). */
  firstOnly: number;
  /** Right only in the second (gained by the second). */
  secondOnly: number;
  /** Right in neither. */
  neither: number;
}

export interface PairedDifference extends PairedOutcomes {
  items: number;
  /** Accuracy of the second minus accuracy of the first. */
  difference: number;
  /** 95% interval of the difference (Newcombe's hybrid score interval for paired proportions, method 10). */
  low: number;
  high: number;
  /** Two-sided exact McNemar test of "no change" (a binomial test on the disagreeing items). */
  pValue: number;
}

/** Counts paired outcomes from per-item correctness; items missing from either side are left out. */
export function pairOutcomes(first: Map<string, boolean>, second: Map<string, boolean>): PairedOutcomes {
  const outcomes: PairedOutcomes = { both: 0, firstOnly: 0, secondOnly: 0, neither: 0 };
  for (const [item, firstRight] of first) {
    const secondRight = second.get(item);
    if (secondRight === undefined) continue;
    if (firstRight && secondRight) outcomes.both += 1;
    else if (firstRight) outcomes.firstOnly += 1;
    else if (secondRight) outcomes.secondOnly += 1;
    else outcomes.neither += 1;
  }
  return outcomes;
}

/** Two-sided exact binomial p-value of min(b, c) successes in b + c trials at 1/2 (log space: no overflow). */
function exactMcNemar(b: number, c: number): number {
  const m = b + c;
  if (m === 0) return 1;
  const k = Math.min(b, c);
  let logChoose = 0;
  let tail = 0;
  for (let i = 0; i <= k; i++) {
    if (i > 0) logChoose += Math.log(m - i + 1) - Math.log(i);
    tail += Math.exp(logChoose - m * Math.LN2);
  }
  return Math.min(1, 2 * tail);
}

/**
 * The change in accuracy between two evaluations of the same items, with an interval that accounts for
 * the pairing (the two accuracies are not independent: an interval from their two Wilson intervals alone
 * would be too wide when the stages agree on most items).
 */
export function pairedDifference(outcomes: PairedOutcomes): PairedDifference {
  const { both: a, firstOnly: b, secondOnly: c, neither: d } = outcomes;
  for (const [name, value] of Object.entries(outcomes))
    if (!Number.isInteger(value) || value < 0)
      throw new RangeError(`pairedDifference: ${name} must be a non-negative integer, got ${value}`);
  const n = a + b + c + d;
  if (n === 0) return { ...outcomes, items: 0, difference: 0, low: -1, high: 1, pValue: 1 };
  const p1 = (a + b) / n;
  const p2 = (a + c) / n;
  const first = wilson(a + b, n);
  const second = wilson(a + c, n);
  const denominator = Math.sqrt((a + b) * (c + d) * (a + c) * (b + d));
  // Newcombe's phi: a positive association is shrunk by n/2 (a continuity adjustment), a negative one kept.
  const association = a * d - b * c;
  const adjusted = association > n / 2 ? association - n / 2 : association < 0 ? association : 0;
  const phi = denominator === 0 ? 0 : adjusted / denominator;
  const difference = p2 - p1;
  const below = Math.sqrt(
    Math.max(
      0,
      (p2 - second.low) ** 2 - 2 * phi * (p2 - second.low) * (first.high - p1) + (first.high - p1) ** 2,
    ),
  );
  const above = Math.sqrt(
    Math.max(
      0,
      (second.high - p2) ** 2 - 2 * phi * (second.high - p2) * (p1 - first.low) + (p1 - first.low) ** 2,
    ),
  );
  return {
    ...outcomes,
    items: n,
    difference,
    low: Math.max(-1, difference - below),
    high: Math.min(1, difference + above),
    pValue: exactMcNemar(b, c),
  };
}
