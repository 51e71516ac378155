import { Rng, RngState } from './rng';

/** Where a trainer is in its data: epoch, index in that epoch's shuffled order, and the RNG behind it. */
export interface DataPosition {
  epoch: number;
  index: number;
  /** RNG state the current epoch's order was drawn from, so the order can be rebuilt on restore. */
  epochRng: RngState;
}

/**
 * Batches of similar length (as Hugging Face's group_by_length does): each window of `windowBatches` batches
 * of the shuffled order is sorted by length, cut into batches, and the batches are served in a seeded random
 * order, so a batch pads to a length near its own rows' instead of the window's longest.
 */
export interface LengthGrouping {
  lengths: readonly number[];
  batchSize: number;
  windowBatches: number;
}

/** An epoch's shuffled order regrouped by length; a pure function of the order, so a restore rebuilds it. */
export function groupOrderByLength(order: readonly number[], grouping: LengthGrouping, rng: Rng): number[] {
  const { lengths, batchSize, windowBatches } = grouping;
  const window = batchSize * windowBatches;
  const out: number[] = [];
  for (let start = 0; start < order.length; start += window) {
    const sorted = order.slice(start, start + window).sort((a, b) => lengths[b] - lengths[a] || a - b);
    const batches: number[][] = [];
    for (let k = 0; k < sorted.length; k += batchSize) batches.push(sorted.slice(k, k + batchSize));
    for (const b of rng.permutation(batches.length)) out.push(...batches[b]);
  }
  return out;
}

/** Endless, seeded, epoch-wise shuffled walk over `size` examples (optionally grouped by length). */
export class DataCursor {
  private order: number[];
  private position: DataPosition;
  private rng: Rng;

  constructor(
    private readonly size: number,
    seed: number,
    private readonly grouping?: LengthGrouping,
  ) {
    if (!Number.isInteger(size) || size <= 0)
      throw new Error(`DataCursor: dataset size must be > 0, got ${size}`);
    if (grouping && grouping.lengths.length !== size)
      throw new Error(`DataCursor: ${grouping.lengths.length} lengths for a dataset of ${size}`);
    this.rng = new Rng(seed);
    const epochRng = this.rng.getState();
    this.order = this.epochOrder(this.rng);
    this.position = { epoch: 0, index: 0, epochRng };
  }

  static restore(size: number, position: DataPosition, rng: RngState, grouping?: LengthGrouping): DataCursor {
    const cursor = new DataCursor(size, 0, grouping);
    const replay = Rng.fromState(position.epochRng);
    cursor.order = cursor.epochOrder(replay);
    cursor.position = { ...position, epochRng: { ...position.epochRng } };
    cursor.rng = Rng.fromState(rng);
    if (position.index < 0 || position.index > size) {
      throw new Error(`DataCursor.restore: index ${position.index} outside dataset of ${size}`);
    }
    return cursor;
  }

  /** Next `n` example indices, starting a freshly shuffled epoch when one runs out. */
  take(n: number): number[] {
    const out: number[] = [];
    while (out.length < n) {
      if (this.position.index >= this.size) {
        const epochRng = this.rng.getState();
        this.order = this.epochOrder(this.rng);
        this.position = { epoch: this.position.epoch + 1, index: 0, epochRng };
      }
      out.push(this.order[this.position.index]);
      this.position.index += 1;
    }
    return out;
  }

  getPosition(): DataPosition {
    return { ...this.position, epochRng: { ...this.position.epochRng } };
  }

  getRngState(): RngState {
    return this.rng.getState();
  }

  /** One epoch's order drawn from `rng` (the shuffle, then the batch order of the length groups). */
  private epochOrder(rng: Rng): number[] {
    const order = rng.permutation(this.size);
    return this.grouping ? groupOrderByLength(order, this.grouping, rng) : order;
  }
}
