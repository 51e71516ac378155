import { pureNashEquilibria, validateBimatrix, type Bimatrix, type Cell } from './normal-form';

/** The game each player faces when nobody observes the state: payoffs averaged over the common prior. */
export function expectedGame(states: ReadonlyArray<{ p: number; game: Bimatrix }>): Bimatrix {
  if (states.length === 0) throw new Error('expected game: no states');
  states.forEach((s, k) => {
    if (!(s.p >= 0 && s.p <= 1)) throw new Error(`expected game: state ${k} probability ${s.p} is not in [0, 1]`);
    validateBimatrix(s.game, `state ${k}`);
    if (s.game.row.length !== states[0].game.row.length || s.game.row[0].length !== states[0].game.row[0].length) {
      throw new Error(`expected game: state ${k} has a different shape from state 0`);
    }
  });
  const total = states.reduce((sum, s) => sum + s.p, 0);
  if (Math.abs(total - 1) > 1e-6) throw new Error(`expected game: probabilities sum to ${total}, not 1`);
  const average = (pick: (g: Bimatrix) => number[][]) =>
    pick(states[0].game).map((line, i) => line.map((_, j) => states.reduce((sum, s) => sum + s.p * pick(s.game)[i][j], 0)));
  return { row: average((g) => g.row), col: average((g) => g.col) };
}

/** Pure Bayes-Nash equilibria when no player has private information: the pure equilibria of the expected game. */
export function commonPriorEquilibria(states: ReadonlyArray<{ p: number; game: Bimatrix }>): Cell[] {
  return pureNashEquilibria(expectedGame(states));
}

export interface TwoTypeGame {
  /** Probability that player 1 is type 0 (type 1 otherwise); player 1 knows its type, player 0 does not. */
  prior: number;
  /** The bimatrix game played when player 1 is type 0 and type 1 (same shape). */
  games: [Bimatrix, Bimatrix];
}

export interface TwoTypeEquilibrium {
  row: number;
  /** Player 1's action as type 0 and as type 1. */
  colByType: [number, number];
}

/**
 * Pure Bayes-Nash equilibria of a game where player 1 has two types: player 0's row is a best response to the
 * prior-weighted type strategy, and each type's column is a best response to the row. Ties count as best responses.
 */
export function twoTypeBayesNash({ prior, games }: TwoTypeGame): TwoTypeEquilibrium[] {
  if (!(prior >= 0 && prior <= 1)) throw new Error(`two-type Bayes-Nash: prior ${prior} is not in [0, 1]`);
  games.forEach((g, k) => validateBimatrix(g, `type ${k} game`));
  const [g0, g1] = games;
  if (g0.row.length !== g1.row.length || g0.row[0].length !== g1.row[0].length) throw new Error('two-type Bayes-Nash: type games differ in shape');
  const rows = g0.row.length;
  const cols = g0.row[0].length;
  const found: TwoTypeEquilibrium[] = [];
  for (let a0 = 0; a0 < cols; a0++) {
    for (let a1 = 0; a1 < cols; a1++) {
      const value = (i: number) => prior * g0.row[i][a0] + (1 - prior) * g1.row[i][a1];
      const best = Math.max(...Array.from({ length: rows }, (_, i) => value(i)));
      for (let i = 0; i < rows; i++) {
        if (value(i) < best) continue;
        const typeBest = (g: Bimatrix, a: number) => g.col[i].every((v) => v <= g.col[i][a]);
        if (typeBest(g0, a0) && typeBest(g1, a1)) found.push({ row: i, colByType: [a0, a1] });
      }
    }
  }
  return found.sort((x, y) => x.row - y.row || x.colByType[0] - y.colByType[0] || x.colByType[1] - y.colByType[1]);
}
