import {
  iteratedStrictDominance,
  ownPayoffs,
  pureNashEquilibria,
  strictlyDominantStrategy,
  strictlyDominatedStrategies,
  validateBimatrix,
  type Bimatrix,
} from './normal-form';
import { perfectlyTransparentEquilibrium } from './pte';

const PD: Bimatrix = { row: [[3, 0], [5, 1]], col: [[3, 5], [0, 1]] };

describe('pure Nash equilibria', () => {
  it.each<[string, Bimatrix, Array<[number, number]>]>([
    ["prisoner's dilemma", PD, [[1, 1]]],
    ['battle of the sexes', { row: [[2, 0], [0, 1]], col: [[1, 0], [0, 2]] }, [[0, 0], [1, 1]]],
    ['matching pennies', { row: [[1, -1], [-1, 1]], col: [[-1, 1], [1, -1]] }, []],
    ['all ties', { row: [[1, 1], [1, 1]], col: [[1, 1], [1, 1]] }, [[0, 0], [0, 1], [1, 0], [1, 1]]],
    ['2x3', { row: [[1, 2, 3], [0, 5, 1]], col: [[0, 1, 2], [3, 0, 1]] }, [[0, 2]]],
    // eval_dataset.csv rows 260 and 261 (gold [] and [[1, 2]])
    ['recon eval 3x3, none', { row: [[8, 7, 3], [2, 6, 1], [5, 0, 4]], col: [[1, 0, 3], [5, 6, 8], [7, 2, 4]] }, []],
    ['recon eval 3x3, one', { row: [[6, 7, 2], [5, 1, 4], [8, 3, 0]], col: [[1, 2, 7], [4, 0, 6], [5, 3, 8]] }, [[1, 2]]],
  ])('%s', (_, game, expected) => {
    expect(pureNashEquilibria(game)).toEqual(expected);
  });

  it('rejects malformed games naming the entry', () => {
    expect(() => validateBimatrix({ row: [[1, 2], [3]], col: [[1, 2], [3, 4]] })).toThrow('game.row: row 1 must have 2 entries');
    expect(() => validateBimatrix({ row: [[1, 2]], col: [[1, 2], [3, 4]] })).toThrow(/differ in shape \(1x2 vs 2x2\)/);
    expect(() => validateBimatrix({ row: [[1, NaN]], col: [[1, 2]] })).toThrow('game.row[0][1]: not a finite number');
    expect(() => pureNashEquilibria({ row: [], col: [] })).toThrow(/non-empty/);
  });
});

describe('dominance', () => {
  it('finds strictly dominant and dominated strategies for both players', () => {
    expect(strictlyDominantStrategy(ownPayoffs(PD, 0))).toBe(1);
    expect(strictlyDominantStrategy(ownPayoffs(PD, 1))).toBe(1);
    expect(strictlyDominatedStrategies(ownPayoffs(PD, 0))).toEqual([0]);
    expect(strictlyDominantStrategy([[2, 0], [0, 1]])).toBeNull();
    // weak dominance is not strict: equal against one column
    expect(strictlyDominantStrategy([[2, 1], [1, 1]])).toBeNull();
    expect(strictlyDominatedStrategies([[2, 1], [1, 1]])).toEqual([]);
    // dominated by a strategy that is not dominant itself
    expect(strictlyDominatedStrategies([[3, 0], [2, -1], [0, 3]])).toEqual([1]);
  });

  it('iterates elimination (Gibbons 1.1.1: R, then D, then L go)', () => {
    const game = { row: [[1, 1, 0], [0, 0, 2]], col: [[0, 2, 1], [3, 1, 0]] };
    expect(iteratedStrictDominance(game)).toEqual({ rows: [0], cols: [1] });
  });
});

describe('perfectly transparent equilibrium', () => {
  it.each<[string, Bimatrix, [number, number] | null]>([
    // eval_dataset.csv row 280, gold [[2, 2]]: guarantees 5 and 4 leave (2,1) and (2,2); then 5 and 7 leave (2,2)
    ['recon eval 3x3', { row: [[6, 1, 3], [2, 4, 0], [8, 7, 5]], col: [[1, 4, 2], [5, 8, 0], [3, 6, 7]] }, [2, 2]],
    ["prisoner's dilemma: cooperation", PD, [0, 0]],
    ['matching pennies: nothing is eliminated', { row: [[1, -1], [-1, 1]], col: [[-1, 1], [1, -1]] }, null],
  ])('%s', (_, game, expected) => {
    expect(perfectlyTransparentEquilibrium(game)).toEqual(expected);
  });
});
