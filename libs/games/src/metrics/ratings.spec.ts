import { createRng } from '../rng/rng';
import { bradleyTerryRatings, type PairwiseResult } from './ratings';

/** `wins` wins, `draws` draws and `losses` losses of `a` against `b`. */
function record(a: string, b: string, wins: number, draws = 0, losses = 0): PairwiseResult[] {
  return [
    ...Array.from({ length: wins }, () => ({ a, b, score: 1 as const })),
    ...Array.from({ length: draws }, () => ({ a, b, score: 0.5 as const })),
    ...Array.from({ length: losses }, () => ({ a, b, score: 0 as const })),
  ];
}

/** Matches of every pair drawn from true Elo-scale ratings (no draws), from a seeded generator. */
function simulate(truth: Record<string, number>, perPair: number, seed: number): PairwiseResult[] {
  const rng = createRng(seed);
  const players = Object.keys(truth);
  const results: PairwiseResult[] = [];
  for (let i = 0; i < players.length; i++)
    for (let j = i + 1; j < players.length; j++) {
      const [a, b] = [players[i], players[j]];
      const p = 1 / (1 + 10 ** ((truth[b] - truth[a]) / 400));
      // Seats alternate, as the scheduler swaps them: the fit must not depend on which side a match is listed.
      for (let k = 0; k < perPair; k++) {
        const aWins = rng.next() < p;
        results.push(k % 2 === 0 ? { a, b, score: aWins ? 1 : 0 } : { a: b, b: a, score: aWins ? 0 : 1 });
      }
    }
  return results;
}

const byPlayer = (ratings: ReturnType<typeof bradleyTerryRatings>) =>
  Object.fromEntries(ratings.map((r) => [r.player, r]));

describe('Bradley-Terry ratings over a pool of matches', () => {
  it('orders players by known outcomes, best first, with their records', () => {
    const results = [
      ...record('A', 'B', 8, 0, 2),
      ...record('B', 'C', 8, 0, 2),
      ...record('A', 'C', 9, 0, 1),
    ];
    const ratings = bradleyTerryRatings(results, { seed: 1, resamples: 200 });
    expect(ratings.map((r) => r.player)).toEqual(['A', 'B', 'C']);
    expect(byPlayer(ratings).A).toMatchObject({ matches: 20, wins: 17, draws: 0, losses: 3 });
    expect(byPlayer(ratings).C).toMatchObject({ matches: 20, wins: 3, losses: 17 });
    expect(ratings.reduce((sum, r) => sum + r.rating, 0)).toBeCloseTo(0, 9);
    for (const r of ratings) {
      expect(r.low).toBeLessThanOrEqual(r.rating);
      expect(r.high).toBeGreaterThanOrEqual(r.rating);
    }
  });

  it('recovers the maximum-likelihood odds of two players (3 wins in 4: 400 log10 3 apart), draws as half a win', () => {
    const [a, b] = bradleyTerryRatings(record('A', 'B', 3, 0, 1), { seed: 1, resamples: 10, prior: 1e-9 });
    expect(a.rating - b.rating).toBeCloseTo(400 * Math.log10(3), 4);
    const [c, d] = bradleyTerryRatings(record('C', 'D', 2, 2, 0), { seed: 1, resamples: 10, prior: 1e-9 });
    expect(c.rating - d.rating).toBeCloseTo(400 * Math.log10(3), 4);
    expect(
      bradleyTerryRatings(record('E', 'F', 0, 6, 0), { seed: 1, resamples: 10 }).map((r) => r.rating),
    ).toEqual([0, 0]);
  });

  it('keeps a perfect record finite (the prior) and ranks it first', () => {
    const ratings = bradleyTerryRatings([...record('A', 'B', 10), ...record('B', 'C', 5, 0, 5)], {
      seed: 3,
      resamples: 100,
    });
    expect(ratings[0].player).toBe('A');
    ratings.forEach((r) => [r.rating, r.low, r.high].forEach((v) => expect(Number.isFinite(v)).toBe(true)));
  });

  it('gives 95% intervals that contain the true ratings about 95% of the time on synthetic pools', () => {
    const truth = { p1: 200, p2: 50, p3: 0, p4: -250 };
    const mean = Object.values(truth).reduce((s, v) => s + v, 0) / 4;
    let covered = 0;
    let checked = 0;
    let width = 0;
    for (let dataset = 0; dataset < 24; dataset++) {
      const ratings = bradleyTerryRatings(simulate(truth, 100, 1000 + dataset), {
        seed: dataset,
        resamples: 150,
      });
      for (const r of ratings) {
        const centred = truth[r.player as keyof typeof truth] - mean;
        if (r.low <= centred && centred <= r.high) covered++;
        checked++;
        width += r.high - r.low;
      }
    }
    expect(covered / checked).toBeGreaterThanOrEqual(0.88);
    // Informative, not merely wide: 300 matches per player pin a rating to within about ±40 Elo.
    expect(width / checked).toBeLessThan(120);
  });

  it('is deterministic with its seed, and the seed drives the intervals', () => {
    const results = simulate({ x: 100, y: 0, z: -100 }, 20, 9);
    const first = bradleyTerryRatings(results, { seed: 42, resamples: 300 });
    expect(bradleyTerryRatings(results, { seed: 42, resamples: 300 })).toEqual(first);
    const other = bradleyTerryRatings(results, { seed: 43, resamples: 300 });
    expect(other.map((r) => r.rating)).toEqual(first.map((r) => r.rating));
    expect(other.map((r) => [r.low, r.high])).not.toEqual(first.map((r) => [r.low, r.high]));
  });

  it('refuses a player matched with itself, and rates an empty pool as nobody', () => {
    expect(() => bradleyTerryRatings([{ a: 'A', b: 'A', score: 1 }], { seed: 1 })).toThrow(
      /match 0 pairs A with itself/,
    );
    expect(bradleyTerryRatings([], { seed: 1 })).toEqual([]);
  });
});
