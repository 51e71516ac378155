import { commonPriorEquilibria, expectedGame } from '../../solvers/bayes-nash';
import { fmt, type ProblemGenerator } from '../problem';

const LETTERS = 'ABCDEFGHJKLMNPQRSTUVWXYZ';

/**
 * Two states of a 2x2 game with a common prior and no private information (the Recon template): the pure
 * Bayes-Nash equilibrium is the pure equilibrium of the prior-weighted game; draws without a unique one are rejected.
 */
export const bayesNashProblem: ProblemGenerator = (rng, inSplit) => {
  const p = rng.int(1, 9) / 10;
  const draw = () => [0, 1].map(() => [0, 1].map(() => rng.int(0, 9)));
  const states = [
    { p, game: { row: draw(), col: draw() } },
    { p: Number((1 - p).toFixed(1)), game: { row: draw(), col: draw() } },
  ];
  const key = `bayes_nash|${JSON.stringify(states)}`;
  if (!inSplit(key)) return null;
  const equilibria = commonPriorEquilibria(states);
  if (equilibria.length !== 1) return null;
  const [[ei, ej]] = equilibria;
  const names = rng.permutation(LETTERS.length).slice(0, 4).map((i) => LETTERS[i]);
  const rows = names.slice(0, 2);
  const cols = names.slice(2);
  const expected = expectedGame(states);
  const table = (s: (typeof states)[number]) =>
    [`              Action ${cols[0]}      Action ${cols[1]}`, ...rows.map((r, i) => `Action ${r}  ${[0, 1].map((j) => `(${s.game.row[i][j]}, ${s.game.col[i][j]})`).join('  ')}`)].join('\n');
  const cell = (i: number, j: number) => `(${fmt(expected.row[i][j])}, ${fmt(expected.col[i][j])})`;
  const tight = (s: (typeof states)[number]) => rows.map((r, i) => `${r}:${[0, 1].map((j) => `(${s.game.row[i][j]},${s.game.col[i][j]})`).join('')}`).join(' ');
  const pairs = rows.flatMap((r) => cols.map((c) => [r, c]));
  const correct = ei * 2 + ej;
  return {
    key,
    full: {
      question:
        `Suppose the following game has 2 states: State 1, State 2. The probability of state 1 is ${p} and the probability of state 2 is ${states[1].p}. ` +
        `Suppose no player has any information about the state of the game but common knowledge of the states. What is the Bayes-Nash Equilibrium of the game?\n` +
        `State 1:\n${table(states[0])}\nState 2:\n${table(states[1])}`,
      steps: [
        `With no information, each player maximises expected payoffs: ${pairs.map(([r, c], k) => `(${r}, ${c}) gives ${cell(k >> 1, k & 1)}`).join('; ')}.`,
        `In the expected game, ${rows[ei]} is Player 1's best reply to ${cols[ej]} and ${cols[ej]} is Player 2's best reply to ${rows[ei]}; no other cell is mutual.`,
      ],
    },
    compact: {
      question: `States p=${p}/${states[1].p}, no info. S1 ${tight(states[0])} S2 ${tight(states[1])} (cols ${cols.join(',')}). Pure BNE?`,
      steps: [`E: ${pairs.map(([r, c], k) => `${r}${c}${cell(k >> 1, k & 1).replace(/ /g, '')}`).join(' ')}.`, `Mutual best: ${rows[ei]}${cols[ej]}.`],
    },
    answer: {
      kind: 'choice',
      options: pairs.map(([r, c]) => ({ full: `('Action ${r}', 'Action ${c}')`, compact: `(${r},${c})` })),
      correct,
    },
  };
};
