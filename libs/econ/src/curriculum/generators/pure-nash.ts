import { colBestResponses, pureNashEquilibria, rowBestResponses } from '../../solvers/normal-form';
import { cellList, pyMatrix, type ProblemGenerator } from '../problem';
import { resemblesEvaluationMatrix } from './game-format';

const matrix = (rng: { int(lo: number, hi: number): number }, rows: number, cols: number) =>
  Array.from({ length: rows }, () => Array.from({ length: cols }, () => rng.int(0, 9)));

/**
 * A 2x2 to 3x3 bimatrix game; the number of equilibria is drawn first (0, 1, 1, 2) so `[]` is not the
 * majority answer, then games are drawn until one has that many.
 */
export const pureNash: ProblemGenerator = (rng, inSplit) => {
  const wanted = rng.pick([0, 1, 1, 2]);
  const [rows, cols] = [rng.int(2, 3), rng.int(2, 3)];
  const game = { row: matrix(rng, rows, cols), col: matrix(rng, rows, cols) };
  const key = `pure_nash|${JSON.stringify(game)}`;
  if (!inSplit(key)) return null;
  // No training or held-out bimatrix may be one of the evaluation games in any disguise.
  if (resemblesEvaluationMatrix(game.row.map((line, i) => line.map((p0, j) => [p0, game.col[i][j]] as const)))) return null;
  const equilibria = pureNashEquilibria(game);
  if (equilibria.length !== wanted) return null;
  const answer = cellList(equilibria);
  const colIdx = game.row[0].map((_, j) => j);
  const rowIdx = game.row.map((_, i) => i);
  const br0 = colIdx.map((j) => rowBestResponses(game, j));
  const br1 = rowIdx.map((i) => colBestResponses(game, i));
  return {
    key,
    full: {
      question: [
        'You are given a 2-player normal-form game.',
        '',
        "The first matrix gives Player 0's payoffs and the second gives Player 1's payoffs. Cell (i, j) is the outcome when Player 0 plays strategy i and Player 1 plays strategy j.",
        '',
        'Your task is to find all pure strategy Nash equilibria (PSNE) in this game: pairs [i, j] where neither player can gain by switching alone.',
        'Format your final answer strictly as \\boxed{[[i, j], [k, l], ...]} with no additional text.',
        'If there is no pure strategy Nash equilibrium, return \\boxed{[]}.',
        '',
        "Player 0's payoff matrix:",
        pyMatrix(game.row),
        '',
        "Player 1's payoff matrix:",
        pyMatrix(game.col),
      ].join('\n'),
      steps: [
        ...colIdx.map((j) => `Against column ${j}, Player 0 gets ${game.row.map((l) => l[j]).join(', ')}; best row(s): ${br0[j].join(', ')}.`),
        ...rowIdx.map((i) => `Against row ${i}, Player 1 gets ${game.col[i].join(', ')}; best column(s): ${br1[i].join(', ')}.`),
        equilibria.length === 0
          ? 'No cell is a best response for both players at once, so there is no pure equilibrium.'
          : `Cells where both play a best response: ${equilibria.map(([i, j]) => `(${i}, ${j})`).join(', ')}.`,
      ],
    },
    // Compact: one group per column (P0's payoffs) and per row (P1's), each with its best reply, then every
    // column's best row checked against that row's best column; each step compares a few single digits.
    compact: {
      question: `Pure NE? P0 by col: ${colIdx.map((j) => `c${j} ${game.row.map((l) => l[j]).join(',')}`).join('; ')}. P1 by row: ${rowIdx
        .map((i) => `r${i} ${game.col[i].join(',')}`)
        .join('; ')}. Answer [[row,col],...] or [].`,
      steps: [
        ...colIdx.map((j) => `c${j}: r${br0[j].join('/r')}.`),
        ...rowIdx.map((i) => `r${i}: c${br1[i].join('/c')}.`),
        ...colIdx.flatMap((j) => br0[j].map((i) => `r${i}c${j} ${br1[i].includes(j) ? 'yes' : 'no'}.`)),
      ],
    },
    answer: { kind: 'literal', value: answer },
  };
};
