import { colBestResponses, pureNashEquilibria, rowBestResponses } from '../../solvers/normal-form';
import { cellList, pyMatrix, tightMatrix, type ProblemGenerator } from '../problem';

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
    compact: {
      question: `Pure NE? P0 ${tightMatrix(game.row)} P1 ${tightMatrix(game.col)}. Answer [[row,col],...] or [].`,
      steps: [`P0 best row per col: ${br0.map((b) => b.join('/')).join(',')}.`, `P1 best col per row: ${br1.map((b) => b.join('/')).join(',')}.`, `Mutual: ${answer}.`],
    },
    answer: { kind: 'literal', value: answer },
  };
};
