import { z } from 'zod';

/**
 * How a micro-batch's rows are cut into its data-parallel parts (each part is one padded forward/backward
 * pass, on whichever worker takes it; the step's gradient is the sum of the parts in order):
 * - `contiguous`: consecutive rows, equal counts (runs recorded before the option);
 * - `balanced`: rows sorted by length and cut where the parts' estimated costs are most equal, so a part
 *   of long rows (game prompts, long completions) holds fewer of them and short rows stop padding to their
 *   length.
 */
export const batchPartitionSchema = z.enum(['contiguous', 'balanced']);
export type BatchPartition = z.infer<typeof batchPartitionSchema>;

/**
 * Attention's share of a padded pass against the projections', in tokens: a pass over `rows` rows padded
 * to `length` costs about rows x length x (length + ATTENTION_BALANCE). 3 d + V / (2 layers) for a
 * transformer; 360 is the built-in recon-mini policy's (d64, 3 layers, vocabulary 1024). A different model
 * only balances the parts less well; the numbers never depend on it beyond which rows share a part.
 */
const ATTENTION_BALANCE = 360;

function passCost(rows: number, length: number): number {
  return rows * length * (length + ATTENTION_BALANCE);
}

/**
 * Cuts rows of the given lengths into at most `split` non-empty parts; returns each part's row indices in
 * ascending order, parts in the order their gradients are summed. A pure function of the lengths.
 */
export function partitionRows(
  lengths: readonly number[],
  split: number,
  partition: BatchPartition,
): number[][] {
  if (!Number.isInteger(split) || split < 1)
    throw new Error(`partitionRows: split must be >= 1, got ${split}`);
  const n = lengths.length;
  if (n === 0) return [];
  if (partition === 'contiguous') {
    const size = Math.ceil(n / split);
    const parts: number[][] = [];
    for (let start = 0; start < n; start += size)
      parts.push(Array.from({ length: Math.min(size, n - start) }, (_, i) => start + i));
    return parts;
  }
  // Longest first (ties by index), then the cut of that order into `parts` runs minimising the costliest run:
  // a run's padded length is its first row's.
  const order = lengths.map((_, i) => i).sort((a, b) => lengths[b] - lengths[a] || a - b);
  const parts = Math.min(split, n);
  const runCost = (from: number, to: number) => passCost(to - from, lengths[order[from]]);
  // best[p][i]: the least possible costliest run when the first i rows of the order form p runs.
  const best: number[][] = Array.from({ length: parts + 1 }, () => new Array<number>(n + 1).fill(Infinity));
  const cut: number[][] = Array.from({ length: parts + 1 }, () => new Array<number>(n + 1).fill(0));
  best[0][0] = 0;
  for (let p = 1; p <= parts; p++)
    for (let i = p; i <= n; i++)
      for (let j = p - 1; j < i; j++) {
        const cost = Math.max(best[p - 1][j], runCost(j, i));
        if (cost < best[p][i]) {
          best[p][i] = cost;
          cut[p][i] = j;
        }
      }
  const runs: number[][] = [];
  for (let p = parts, i = n; p > 0; p--) {
    const j = cut[p][i];
    runs.unshift(order.slice(j, i).sort((a, b) => a - b));
    i = j;
  }
  return runs;
}
