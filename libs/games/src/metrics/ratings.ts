import { createRng } from '../rng/rng';

/** One match between two players of a pool: `score` is `a`'s (1 win, 0.5 draw, 0 loss). */
export interface PairwiseResult {
  a: string;
  b: string;
  score: 0 | 0.5 | 1;
}

export interface PlayerRating {
  player: string;
  /** Bradley-Terry strength on the Elo scale (400 log10 of the odds), the pool's mean at 0. */
  rating: number;
  /** Percentile bootstrap interval of the rating. */
  low: number;
  high: number;
  matches: number;
  wins: number;
  draws: number;
  losses: number;
}

export interface RatingOptions {
  /** Seeds the bootstrap resampling: the same matches and seed give the same intervals. */
  seed: number;
  /** Bootstrap resamples (default 1,000). */
  resamples?: number;
  /** Interval level (default 0.95). */
  level?: number;
  /**
   * Virtual drawn games of every player against a fixed reference player (default 1): a weak prior that keeps
   * the strength of a player who won or lost everything finite, and links players no match connects.
   */
  prior?: number;
}

const ELO = 400 / Math.LN10;

/** The players of a pool in a fixed order, with every pair's score total and match count. */
function tally(results: readonly PairwiseResult[], players: readonly string[]) {
  const index = new Map(players.map((p, i) => [p, i]));
  const n = players.length;
  const score = Array.from({ length: n }, () => new Float64Array(n));
  const games = Array.from({ length: n }, () => new Float64Array(n));
  for (const { a, b, score: s } of results) {
    const i = index.get(a)!;
    const j = index.get(b)!;
    score[i][j] += s;
    score[j][i] += 1 - s;
    games[i][j] += 1;
    games[j][i] += 1;
  }
  return { score, games };
}

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));
/** log(e^x + e^y) without overflow. */
const logSumExp = (x: number, y: number) => Math.max(x, y) + Math.log1p(Math.exp(-Math.abs(x - y)));

/** Solves `a x = b` for a symmetric positive definite `a` (Cholesky); `a` is overwritten. */
function solvePositiveDefinite(a: number[][], b: number[]): number[] {
  const n = b.length;
  for (let j = 0; j < n; j++) {
    for (let k = 0; k < j; k++) a[j][j] -= a[j][k] * a[j][k];
    a[j][j] = Math.sqrt(a[j][j]);
    for (let i = j + 1; i < n; i++) {
      for (let k = 0; k < j; k++) a[i][j] -= a[i][k] * a[j][k];
      a[i][j] /= a[j][j];
    }
  }
  const y = [...b];
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < i; k++) y[i] -= a[i][k] * y[k];
    y[i] /= a[i][i];
  }
  for (let i = n - 1; i >= 0; i--) {
    for (let k = i + 1; k < n; k++) y[i] -= a[k][i] * y[k];
    y[i] /= a[i][i];
  }
  return y;
}

/**
 * Maximum a-posteriori Bradley-Terry log-strengths (draws as half a win each), with `prior` drawn games per
 * player against a reference of log-strength 0, by Newton's method with step halving: the log-posterior is
 * strictly concave, so it converges in a few steps. Returned on the Elo scale, centred on the pool's mean.
 */
function fit(score: readonly Float64Array[], games: readonly Float64Array[], prior: number): number[] {
  const n = score.length;
  const wins = score.map((row) => row.reduce((sum, v) => sum + v, 0));
  const objective = (theta: readonly number[]) => {
    let value = 0;
    for (let i = 0; i < n; i++) {
      value += wins[i] * theta[i] + prior * (0.5 * theta[i] - logSumExp(theta[i], 0));
      for (let j = i + 1; j < n; j++)
        if (games[i][j] > 0) value -= games[i][j] * logSumExp(theta[i], theta[j]);
    }
    return value;
  };
  let theta = new Array<number>(n).fill(0);
  let current = objective(theta);
  for (let iteration = 0; iteration < 100; iteration++) {
    const gradient = new Array<number>(n).fill(0);
    const curvature = Array.from({ length: n }, () => new Array<number>(n).fill(0));
    for (let i = 0; i < n; i++) {
      const own = sigmoid(theta[i]);
      gradient[i] = wins[i] + prior * (0.5 - own);
      curvature[i][i] = prior * own * (1 - own);
      for (let j = 0; j < n; j++) {
        if (j === i || games[i][j] === 0) continue;
        const p = sigmoid(theta[i] - theta[j]);
        gradient[i] -= games[i][j] * p;
        curvature[i][i] += games[i][j] * p * (1 - p);
        curvature[i][j] -= games[i][j] * p * (1 - p);
      }
    }
    const step = solvePositiveDefinite(curvature, gradient);
    let scale = 1;
    let next = theta.map((t, i) => t + step[i]);
    let value = objective(next);
    while (value < current && scale > 1e-6) {
      scale /= 2;
      next = theta.map((t, i) => t + scale * step[i]);
      value = objective(next);
    }
    theta = next;
    current = value;
    if (Math.max(...step.map((d) => Math.abs(d * scale))) < 1e-10) break;
  }
  const elo = theta.map((t) => t * ELO);
  const mean = elo.reduce((sum, v) => sum + v, 0) / n;
  return elo.map((v) => v - mean);
}

/** The value below which a share `q` of the sorted values lies (linear interpolation between ranks). */
function quantile(sorted: readonly number[], q: number): number {
  const position = (sorted.length - 1) * q;
  const below = Math.floor(position);
  const above = Math.min(below + 1, sorted.length - 1);
  return sorted[below] + (sorted[above] - sorted[below]) * (position - below);
}

/**
 * Bradley-Terry ratings of every player in a pool of two-player matches, fitted on all of them at once, with
 * percentile bootstrap intervals: each resample redraws, with replacement, as many matches of every pairing
 * as it played, from a generator seeded by `seed`. Players are listed best first.
 */
export function bradleyTerryRatings(
  results: readonly PairwiseResult[],
  options: RatingOptions,
): PlayerRating[] {
  const resamples = options.resamples ?? 1000;
  const level = options.level ?? 0.95;
  const prior = options.prior ?? 1;
  if (!(prior > 0)) throw new RangeError(`ratings: the prior must be positive, got ${prior}`);
  if (!Number.isInteger(resamples) || resamples < 1)
    throw new RangeError(`ratings: resamples must be a positive integer, got ${resamples}`);
  for (const [i, r] of results.entries())
    if (r.a === r.b) throw new RangeError(`ratings: match ${i} pairs ${r.a} with itself`);
  const players = [...new Set(results.flatMap((r) => [r.a, r.b]))].sort();
  if (players.length === 0) return [];
  const { score, games } = tally(results, players);
  const point = fit(score, games, prior);

  // The design stays fixed: every pairing plays as many matches in each resample, so only the scores change.
  const index = new Map(players.map((p, i) => [p, i]));
  const cells = new Map<string, { i: number; j: number; scores: number[] }>();
  for (const r of results) {
    const [i, j] = [index.get(r.a)!, index.get(r.b)!];
    const [low, high] = i < j ? [i, j] : [j, i];
    const cell = cells.get(`${low},${high}`) ?? { i: low, j: high, scores: [] };
    cell.scores.push(i === low ? r.score : 1 - r.score);
    cells.set(`${low},${high}`, cell);
  }
  const ordered = [...cells.values()].sort((x, y) => x.i - y.i || x.j - y.j);
  const rng = createRng(options.seed);
  const draws = players.map(() => new Array<number>(resamples));
  for (let r = 0; r < resamples; r++) {
    const resampled = players.map(() => new Float64Array(players.length));
    for (const { i, j, scores } of ordered) {
      let total = 0;
      for (let k = 0; k < scores.length; k++) total += scores[rng.int(scores.length)];
      resampled[i][j] = total;
      resampled[j][i] = scores.length - total;
    }
    fit(resampled, games, prior).forEach((v, p) => (draws[p][r] = v));
  }

  const tail = (1 - level) / 2;
  return players
    .map((player, i) => {
      const sorted = [...draws[i]].sort((x, y) => x - y);
      const own = results.filter((r) => r.a === player || r.b === player);
      const scoreOf = (r: PairwiseResult) => (r.a === player ? r.score : 1 - r.score);
      return {
        player,
        rating: point[i],
        low: quantile(sorted, tail),
        high: quantile(sorted, 1 - tail),
        matches: own.length,
        wins: own.filter((r) => scoreOf(r) === 1).length,
        draws: own.filter((r) => scoreOf(r) === 0.5).length,
        losses: own.filter((r) => scoreOf(r) === 0).length,
      };
    })
    .sort((x, y) => y.rating - x.rating || x.player.localeCompare(y.player));
}
