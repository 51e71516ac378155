import { Rng, RngState } from './rng';

/** Where a trainer is in its data: epoch, index in that epoch's shuffled order, and the RNG behind it. */
export interface DataPosition {
  epoch: number;
  index: number;
  /** RNG state the current epoch's order was drawn from, so the order can be rebuilt on restore. */
  epochRng: RngState;
}

/** Endless, seeded, epoch-wise shuffled walk over `size` examples. */
export class DataCursor {
  private order: number[];
  private position: DataPosition;
  private rng: Rng;

  constructor(
    private readonly size: number,
    seed: number,
  ) {
    if (!Number.isInteger(size) || size <= 0)
      throw new Error(`DataCursor: dataset size must be > 0, got ${size}`);
    this.rng = new Rng(seed);
    const epochRng = this.rng.getState();
    this.order = this.rng.permutation(size);
    this.position = { epoch: 0, index: 0, epochRng };
  }

  static restore(size: number, position: DataPosition, rng: RngState): DataCursor {
    const cursor = new DataCursor(size, 0);
    const replay = Rng.fromState(position.epochRng);
    cursor.order = replay.permutation(size);
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
        this.order = this.rng.permutation(this.size);
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
}
