import { strictlyDominantStrategy, strictlyDominates } from '../../solvers/normal-form';
import type { ProblemGenerator } from '../problem';

const ROWS = [['U', 'D'], ['U', 'M', 'D']];
const COLS = [['L', 'R'], ['L', 'C', 'R']];

/**
 * Player 0's payoffs in a 2-3 x 2-3 game: which row is strictly dominant (or none)? The answer is drawn
 * first; a dominant row is built by lifting it above the others in every column, `none` is drawn until true.
 */
export const dominantStrategy: ProblemGenerator = (rng, inSplit) => {
  const rows = rng.pick(ROWS);
  const cols = rng.pick(COLS);
  const wanted = rng.int(0, rows.length);
  const payoffs = rows.map(() => cols.map(() => rng.int(0, 9)));
  if (wanted < rows.length) {
    cols.forEach((_, j) => {
      const others = Math.max(...payoffs.filter((_, i) => i !== wanted).map((l) => l[j]));
      payoffs[wanted][j] = Math.max(payoffs[wanted][j], others + rng.int(1, 3));
    });
  }
  // Single digits keep the compact comparisons learnable for a small policy.
  if (payoffs.some((line) => line.some((p) => p > 9))) return null;
  const key = `dominant_strategy|${JSON.stringify(payoffs)}`;
  if (!inSplit(key)) return null;
  const dominant = strictlyDominantStrategy(payoffs);
  if ((dominant ?? rows.length) !== wanted) return null;
  // For each row: either the rows it beats everywhere, or one column where another row does at least as well.
  const why = rows.map((r, i) => {
    const rival = rows.findIndex((_, k) => k !== i && !strictlyDominates(payoffs, i, k));
    if (rival < 0) return { full: `${r} pays more than every other row in every column.`, compact: `${r} beats all rows everywhere.` };
    const j = cols.findIndex((_, c) => payoffs[rival][c] >= payoffs[i][c]);
    return {
      full: `${r} is not dominant: against ${cols[j]}, ${rows[rival]} pays ${payoffs[rival][j]} >= ${payoffs[i][j]}.`,
      compact: `${r} no: ${cols[j]} ${rows[rival]}${payoffs[rival][j]}>=${payoffs[i][j]}.`,
    };
  });
  // Compact: one group per column, then the unique best row of each column; a row is strictly dominant when
  // it is the unique best in every column (one local comparison of single digits per step).
  const byColumn = cols.map((c, j) => `${c}: ${rows.map((r, i) => `${r}${payoffs[i][j]}`).join(' ')}.`);
  const columnBest = cols.map((col, j) => {
    const top = Math.max(...payoffs.map((line) => line[j]));
    const at = rows.filter((_, i) => payoffs[i][j] === top);
    return { col, best: at.length === 1 ? at[0] : null };
  });
  const bests = new Set(columnBest.map((c) => c.best));
  const verdict = bests.size === 1 && !bests.has(null) ? `all ${columnBest[0].best}` : 'none';
  const options = [...rows.map((r) => ({ full: `Strategy ${r}`, compact: r })), { full: 'No strictly dominant strategy', compact: 'none' }];
  return {
    key,
    full: {
      question: `Player 0 chooses a row (${rows.join(', ')}) and Player 1 a column (${cols.join(', ')}). Player 0's payoffs are:\n${rows
        .map((r, i) => `${r}: ${cols.map((c, j) => `${c}=${payoffs[i][j]}`).join(', ')}`)
        .join('\n')}\nWhich strategy, if any, is strictly dominant for Player 0 (strictly better than every other row against every column)?`,
      steps: why.map((w) => w.full),
    },
    compact: {
      question: `Row payoffs by column. ${byColumn.join(' ')} Strictly dominant row?`,
      steps: [...columnBest.map(({ col, best }) => `${col}: ${best ?? 'tie'}.`), `${verdict}.`],
    },
    answer: { kind: 'choice', options, correct: wanted },
  };
};
