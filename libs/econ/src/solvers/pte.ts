import { validateBimatrix, type Bimatrix, type Cell } from './normal-form';

/**
 * Perfectly Transparent Equilibrium (Fourny), as the Recon prompts state it: each player's maximin guarantee
 * over the outcomes still in play (best own strategy, worst remaining outcome of it); outcomes where some player
 * gets strictly less than their guarantee are eliminated; repeat. The PTE is the single outcome left, or null
 * when elimination stops with several outcomes (or, degenerately, with none).
 */
export function perfectlyTransparentEquilibrium(game: Bimatrix): Cell | null {
  validateBimatrix(game);
  let alive: Cell[] = game.row.flatMap((line, i) => line.map((_, j): Cell => [i, j]));
  for (;;) {
    if (alive.length === 1) return alive[0];
    const guarantee = (player: 0 | 1) => {
      const worst = new Map<number, number>();
      for (const cell of alive) {
        const value = (player === 0 ? game.row : game.col)[cell[0]][cell[1]];
        const own = cell[player];
        worst.set(own, Math.min(worst.get(own) ?? Infinity, value));
      }
      return Math.max(...worst.values());
    };
    const [g0, g1] = [guarantee(0), guarantee(1)];
    const next = alive.filter(([i, j]) => game.row[i][j] >= g0 && game.col[i][j] >= g1);
    if (next.length === alive.length || next.length === 0) return null;
    alive = next;
  }
}
