import {
  BATTLE_OF_THE_SEXES,
  DRACO,
  DUOPOLISTIC_COMPETITION,
  ESCALATION,
  HOT_COLD,
  MONOPOLY,
  PRISONERS_DILEMMA,
  STAG_HUNT,
  TRIGAME,
  WAIT_GO,
  terminalPaths,
  type SimultaneousGame,
} from '../complete-info';
import { backwardInduction, strategicFormEquilibria } from './game-tree';
import { dominates, isStrictEquilibrium, paretoOptimalEquilibria, pureNashEquilibria } from './bimatrix';

/** games.md uses 1-based labels (Alice, Bob); the solvers are 0-based. */
const labels = (profiles: ReadonlyArray<readonly [number, number]>) =>
  profiles.map(([i, j]) => [i + 1, j + 1]);

describe('simultaneous games: equilibria equal games.md §5', () => {
  it.each(
    (
      [
        [PRISONERS_DILEMMA, [[2, 2]], [[2, 2]]],
        [
          STAG_HUNT,
          [
            [1, 1],
            [2, 2],
          ],
          [[1, 1]],
        ],
        [
          BATTLE_OF_THE_SEXES,
          [
            [1, 1],
            [2, 2],
          ],
          [
            [1, 1],
            [2, 2],
          ],
        ],
        [
          WAIT_GO,
          [
            [1, 2],
            [2, 1],
          ],
          [
            [1, 2],
            [2, 1],
          ],
        ],
        [DUOPOLISTIC_COMPETITION, [[3, 3]], [[3, 3]]],
      ] as Array<[SimultaneousGame, number[][], number[][]]>
    ).map(([game, equilibria, paretoOptimal]) => ({ name: game.name, game, equilibria, paretoOptimal })),
  )('$name', ({ game, equilibria, paretoOptimal }) => {
    const found = pureNashEquilibria(game.payoffs);
    expect(labels(found)).toEqual(equilibria);
    expect(labels(paretoOptimalEquilibria(game.payoffs))).toEqual(paretoOptimal);
    found.forEach((profile) => expect(isStrictEquilibrium(game.payoffs, profile)).toBe(true));
  });

  it('finds the Pareto-optimal cells overall that games.md lists for PD and Duopoly', () => {
    const paretoCells = (game: SimultaneousGame) => {
      const cells = game.payoffs.flatMap((row, i) =>
        row.map((rewards, j) => ({ at: [i + 1, j + 1], rewards })),
      );
      return cells.filter((c) => !cells.some((o) => dominates(o.rewards, c.rewards))).map((c) => c.at);
    };
    expect(paretoCells(PRISONERS_DILEMMA)).toEqual([
      [1, 1],
      [1, 2],
      [2, 1],
    ]);
    expect(paretoCells(DUOPOLISTIC_COMPETITION)).toEqual([
      [1, 4],
      [2, 2],
      [2, 3],
      [3, 2],
      [4, 1],
    ]);
    expect(DUOPOLISTIC_COMPETITION.payoffs[4][4]).toEqual([-4, -4]);
  });
});

describe('sequential games: backward induction and strategic-form equilibria equal games.md §5', () => {
  it.each(
    (
      [
        [ESCALATION, [1], [0, 0], ['1'], [4, 2], 2],
        [MONOPOLY, [2, 1], [2, 1], ['1', '21'], [2, 2], 2],
        [HOT_COLD, [1, 2], [2, 3], ['12'], [2, 4], 1],
        [DRACO, [1, 1], [5, 5], ['11', '21'], [8, 4], 12],
        [TRIGAME, [2, 1, 2], [4, 10], ['122', '212'], [32, 4], 16],
      ] as const
    ).map(([game, path, rewards, outcomes, strategies, equilibria]) => ({
      name: game.name,
      game,
      path,
      rewards,
      outcomes,
      strategies,
      equilibria,
    })),
  )('$name', ({ game, path, rewards, outcomes, strategies, equilibria }) => {
    expect(backwardInduction(game.tree)).toEqual({ path, rewards });
    const summary = strategicFormEquilibria(game.tree);
    expect(summary.outcomes.map((o) => o.path.join(''))).toEqual(outcomes);
    expect(summary.strategies).toEqual(strategies);
    expect(summary.equilibria).toBe(equilibria);
  });

  it('lists rule lines by path length, then labels (Draco: 11, 21, 121, 122, 221, 222)', () => {
    expect(terminalPaths(DRACO.tree).map((t) => t.path.join(''))).toEqual([
      '11',
      '21',
      '121',
      '122',
      '221',
      '222',
    ]);
    expect(terminalPaths(ESCALATION.tree).map((t) => t.path.join(''))).toEqual(['1', '21', '221', '222']);
    expect(terminalPaths(TRIGAME.tree)).toHaveLength(8);
  });
});
