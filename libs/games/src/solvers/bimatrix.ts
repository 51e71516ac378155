/** A pure-strategy profile (row, column), 0-based. */
export type Profile = readonly [number, number];

/**
 * Pure-strategy Nash equilibria of a bimatrix game: cells where the row is a best reply to the column and
 * the column a best reply to the row. Returned in row-major order.
 */
export function pureNashEquilibria(
  payoffs: ReadonlyArray<ReadonlyArray<readonly [number, number]>>,
): Profile[] {
  const rows = payoffs.length;
  const columns = payoffs[0]?.length ?? 0;
  const equilibria: Profile[] = [];
  for (let i = 0; i < rows; i += 1) {
    for (let j = 0; j < columns; j += 1) {
      const rowBest = payoffs.every((row) => row[j][0] <= payoffs[i][j][0]);
      const columnBest = payoffs[i].every((cell) => cell[1] <= payoffs[i][j][1]);
      if (rowBest && columnBest) equilibria.push([i, j]);
    }
  }
  return equilibria;
}

/** Whether an equilibrium is strict: every unilateral deviation loses. */
export function isStrictEquilibrium(
  payoffs: ReadonlyArray<ReadonlyArray<readonly [number, number]>>,
  [i, j]: Profile,
): boolean {
  return (
    payoffs.every((row, k) => k === i || row[j][0] < payoffs[i][j][0]) &&
    payoffs[i].every((cell, k) => k === j || cell[1] < payoffs[i][j][1])
  );
}

/** Rewards a dominates b when both get at least as much and one more. */
export function dominates(a: readonly [number, number], b: readonly [number, number]): boolean {
  return a[0] >= b[0] && a[1] >= b[1] && (a[0] > b[0] || a[1] > b[1]);
}

/** The equilibria no other equilibrium Pareto-dominates (games.md §2.2: PO-NE defined among equilibria). */
export function paretoOptimalEquilibria(
  payoffs: ReadonlyArray<ReadonlyArray<readonly [number, number]>>,
): Profile[] {
  const equilibria = pureNashEquilibria(payoffs);
  return equilibria.filter(([i, j]) => !equilibria.some(([k, l]) => dominates(payoffs[k][l], payoffs[i][j])));
}
