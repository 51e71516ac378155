import { commonPriorEquilibria, expectedGame, twoTypeBayesNash } from './bayes-nash';
import type { Bimatrix } from './normal-form';
import { condorcetWinner } from './voting';

describe('Condorcet winner', () => {
  it('finds the winner of eval row 180 (X) with its pairwise counts', () => {
    const result = condorcetWinner(['X', 'N', 'O'], [
      { voters: 30, ranking: ['X', 'O', 'N'] },
      { voters: 9, ranking: ['O', 'N', 'X'] },
      { voters: 29, ranking: ['X', 'N', 'O'] },
      { voters: 14, ranking: ['O', 'X', 'N'] },
      { voters: 16, ranking: ['N', 'O', 'X'] },
    ]);
    expect(result.winner).toBe('X');
    expect(result.pairwise[1]).toEqual({ a: 'X', b: 'O', forA: 59, forB: 39 });
  });

  it('ranks unlisted candidates last (eval row 181: D wins)', () => {
    const ballots = [
      { voters: 16, ranking: ['U', 'D', 'M'] },
      { voters: 29, ranking: ['U', 'M', 'R'] },
      { voters: 54, ranking: ['D', 'R', 'M'] },
    ];
    expect(condorcetWinner(['D', 'R', 'M', 'U'], ballots).winner).toBe('D');
  });

  it('returns null on a cycle and on a tie', () => {
    const cycle = [['A', 'B', 'C'], ['B', 'C', 'A'], ['C', 'A', 'B']].map((ranking) => ({ voters: 1, ranking }));
    expect(condorcetWinner(['A', 'B', 'C'], cycle).winner).toBeNull();
    expect(condorcetWinner(['A', 'B'], [{ voters: 2, ranking: ['A', 'B'] }, { voters: 2, ranking: ['B', 'A'] }]).winner).toBeNull();
  });

  it('rejects unknown candidates', () => {
    expect(() => condorcetWinner(['A', 'B'], [{ voters: 1, ranking: ['A', 'Z'] }])).toThrow('condorcet: ballot 0 ranks unknown candidate(s) Z');
  });
});

describe('Bayes-Nash', () => {
  it('averages states when nobody is informed', () => {
    const states = [
      { p: 0.25, game: { row: [[4, 0], [0, 0]], col: [[0, 0], [0, 4]] } },
      { p: 0.75, game: { row: [[0, 0], [0, 4]], col: [[4, 0], [0, 0]] } },
    ];
    expect(expectedGame(states)).toEqual({ row: [[1, 0], [0, 3]], col: [[3, 0], [0, 1]] });
    expect(commonPriorEquilibria(states)).toEqual([[0, 0], [1, 1]]);
    expect(() => expectedGame([{ p: 0.5, game: states[0].game }])).toThrow('expected game: probabilities sum to 0.5, not 1');
  });

  it('solves a two-type game: the uninformed row bets on the likely type', () => {
    const games: [Bimatrix, Bimatrix] = [
      { row: [[3, 0], [1, 1]], col: [[1, 0], [1, 0]] },
      { row: [[3, 0], [1, 1]], col: [[0, 1], [0, 1]] },
    ];
    // type 0 always plays column 0, type 1 column 1; row 0 pays 3 * prior, row 1 pays 1
    expect(twoTypeBayesNash({ prior: 0.6, games })).toEqual([{ row: 0, colByType: [0, 1] }]);
    expect(twoTypeBayesNash({ prior: 0.2, games })).toEqual([{ row: 1, colByType: [0, 1] }]);
    expect(() => twoTypeBayesNash({ prior: 2, games })).toThrow('prior 2 is not in [0, 1]');
  });
});
