export interface Proportion {
  successes: number;
  trials: number;
  rate: number;
  /** 95% Wilson score interval. */
  low: number;
  high: number;
}

/** A rate with its 95% Wilson score interval (well-behaved at 0, 1 and small n, unlike the normal one). */
export function wilson(successes: number, trials: number, z = 1.959963984540054): Proportion {
  if (
    !Number.isInteger(successes) ||
    !Number.isInteger(trials) ||
    successes < 0 ||
    trials < 0 ||
    successes > trials
  ) {
    throw new RangeError(`wilson: need 0 <= successes <= trials (integers), got ${successes}/${trials}`);
  }
  if (trials === 0) return { successes, trials, rate: 0, low: 0, high: 1 };
  const p = successes / trials;
  const z2 = z * z;
  const centre = (p + z2 / (2 * trials)) / (1 + z2 / trials);
  const half = (z * Math.sqrt((p * (1 - p)) / trials + z2 / (4 * trials * trials))) / (1 + z2 / trials);
  return { successes, trials, rate: p, low: Math.max(0, centre - half), high: Math.min(1, centre + half) };
}
