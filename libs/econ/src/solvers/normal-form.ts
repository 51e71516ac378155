/** A two-player game in normal form: `row[i][j]` and `col[i][j]` are the payoffs when player 0 plays i, player 1 plays j. */
export interface Bimatrix {
  row: number[][];
  col: number[][];
}

export type Cell = [number, number];

function checkMatrix(matrix: unknown, where: string): number[][] {
  if (!Array.isArray(matrix) || matrix.length === 0) throw new Error(`${where}: must be a non-empty matrix`);
  const width = Array.isArray(matrix[0]) ? matrix[0].length : 0;
  if (width === 0) throw new Error(`${where}: row 0 must be a non-empty array`);
  matrix.forEach((line, i) => {
    if (!Array.isArray(line) || line.length !== width) throw new Error(`${where}: row ${i} must have ${width} entries`);
    line.forEach((value, j) => {
      if (typeof value !== 'number' || !Number.isFinite(value)) throw new Error(`${where}[${i}][${j}]: not a finite number`);
    });
  });
  return matrix as number[][];
}

/** Throws, naming the entry, unless both matrices are finite, rectangular and of the same shape. */
export function validateBimatrix(game: Bimatrix, where = 'game'): void {
  const row = checkMatrix(game.row, `${where}.row`);
  const col = checkMatrix(game.col, `${where}.col`);
  if (row.length !== col.length || row[0].length !== col[0].length) {
    throw new Error(`${where}: payoff matrices differ in shape (${row.length}x${row[0].length} vs ${col.length}x${col[0].length})`);
  }
}

function argmaxAll(values: readonly number[]): number[] {
  let best = -Infinity;
  let found: number[] = [];
  for (let i = 0; i < values.length; i++) {
    if (values[i] > best) {
      best = values[i];
      found = [i];
    } else if (values[i] === best) found.push(i);
  }
  return found;
}

/** Player 0's best responses (all maximising rows) to column j. */
export function rowBestResponses(game: Bimatrix, j: number): number[] {
  return argmaxAll(game.row.map((line) => line[j]));
}

/** Player 1's best responses (all maximising columns) to row i. */
export function colBestResponses(game: Bimatrix, i: number): number[] {
  return argmaxAll(game.col[i]);
}

/** Every cell where each strategy is a best response to the other (weak inequalities), sorted row-major. */
export function pureNashEquilibria(game: Bimatrix): Cell[] {
  validateBimatrix(game);
  const cells: Cell[] = [];
  for (let i = 0; i < game.row.length; i++) {
    const colBest = colBestResponses(game, i);
    for (const j of colBest) if (rowBestResponses(game, j).includes(i)) cells.push([i, j]);
  }
  return cells.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
}

/** A player's own payoffs with their strategies as rows: player 0 reads `row`, player 1 the transpose of `col`. */
export function ownPayoffs(game: Bimatrix, player: 0 | 1): number[][] {
  validateBimatrix(game);
  return player === 0 ? game.row : game.col[0].map((_, j) => game.col.map((line) => line[j]));
}

/** Does strategy a give strictly more than b against every opponent strategy? */
export function strictlyDominates(payoffs: number[][], a: number, b: number): boolean {
  return a !== b && payoffs[a].every((value, k) => value > payoffs[b][k]);
}

/** The strategy that strictly dominates every other one, or null. `payoffs[s][k]`: own strategy s vs opponent k. */
export function strictlyDominantStrategy(payoffs: number[][]): number | null {
  checkMatrix(payoffs, 'payoffs');
  const found = payoffs.findIndex((_, a) => payoffs.every((__, b) => b === a || strictlyDominates(payoffs, a, b)));
  return found < 0 ? null : found;
}

/** Strategies strictly dominated by some other pure strategy, ascending. */
export function strictlyDominatedStrategies(payoffs: number[][]): number[] {
  checkMatrix(payoffs, 'payoffs');
  return payoffs.flatMap((_, b) => (payoffs.some((__, a) => strictlyDominates(payoffs, a, b)) ? [b] : []));
}

/** Iterated elimination of strictly dominated pure strategies; the surviving rows and columns (original indexes). */
export function iteratedStrictDominance(game: Bimatrix): { rows: number[]; cols: number[] } {
  validateBimatrix(game);
  let rows = game.row.map((_, i) => i);
  let cols = game.row[0].map((_, j) => j);
  for (;;) {
    const rowView = rows.map((i) => cols.map((j) => game.row[i][j]));
    const colView = cols.map((j) => rows.map((i) => game.col[i][j]));
    const deadRows = new Set(strictlyDominatedStrategies(rowView));
    const deadCols = new Set(strictlyDominatedStrategies(colView));
    if (deadRows.size === 0 && deadCols.size === 0) return { rows, cols };
    rows = rows.filter((_, k) => !deadRows.has(k));
    cols = cols.filter((_, k) => !deadCols.has(k));
  }
}
