/**
 * The five simultaneous complete-information games of Hua et al. (games.md §2.3). Rows are Alice's labels
 * (choice_1 ...), columns Bob's; each cell is [Alice's reward, Bob's reward].
 */
export interface SimultaneousGame {
  readonly name: string;
  readonly kind: 'simultaneous';
  /** payoffs[row][column] = [alice, bob] */
  readonly payoffs: ReadonlyArray<ReadonlyArray<readonly [number, number]>>;
}

const game = (name: string, payoffs: Array<Array<[number, number]>>): SimultaneousGame => ({
  name,
  kind: 'simultaneous',
  payoffs,
});

/** Duopolistic Competition is symmetric: Bob's reward at (i, j) is Alice's at (j, i). */
function symmetric(alice: number[][]): Array<Array<[number, number]>> {
  return alice.map((row, i) => row.map((value, j) => [value, alice[j][i]] as [number, number]));
}

export const PRISONERS_DILEMMA = game("Prisoner's Dilemma", [
  [
    [3, 3],
    [0, 5],
  ],
  [
    [5, 0],
    [1, 1],
  ],
]);

export const STAG_HUNT = game('Stag Hunt', [
  [
    [3, 3],
    [0, 1],
  ],
  [
    [1, 0],
    [1, 1],
  ],
]);

export const BATTLE_OF_THE_SEXES = game('Battle of the Sexes', [
  [
    [2, 1],
    [0, 0],
  ],
  [
    [0, 0],
    [1, 2],
  ],
]);

export const WAIT_GO = game('Wait-Go', [
  [
    [0, 0],
    [0, 2],
  ],
  [
    [2, 0],
    [-4, -4],
  ],
]);

export const DUOPOLISTIC_COMPETITION = game(
  'Duopolistic Competition',
  symmetric([
    [0, 0, 0, 0, 0, 0],
    [9, 7, 5, 3, 1, -1],
    [14, 10, 6, 2, -2, -2],
    [15, 9, 3, -3, -3, -3],
    [12, 4, -4, -4, -4, -4],
    [5, -5, -5, -5, -5, -5],
  ]),
);

export const SIMULTANEOUS_GAMES = [
  PRISONERS_DILEMMA,
  STAG_HUNT,
  BATTLE_OF_THE_SEXES,
  WAIT_GO,
  DUOPOLISTIC_COMPETITION,
] as const;
