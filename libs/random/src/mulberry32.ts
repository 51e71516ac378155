/**
 * mulberry32: uniform numbers in [0, 1) from a seed, with a one-uint32 state that a run can record and
 * restore. Every seeded draw in Recon (curricula, data order, weight init, sampling, games) comes from
 * this sequence: changing it changes recorded runs, so their replays and the values tests pin break.
 */
export class Mulberry32 {
  private current: number;

  constructor(seed: number) {
    this.current = seed >>> 0;
  }

  /** The state after the draws so far; a generator seeded with it continues the same sequence. */
  get state(): number {
    return this.current;
  }

  next(): number {
    this.current = (this.current + 0x6d2b79f5) >>> 0;
    let x = this.current;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  }

  /** A uniformly random permutation of 0..n-1 (Fisher-Yates). */
  permutation(n: number): number[] {
    const order = Array.from({ length: n }, (_, i) => i);
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1));
      [order[i], order[j]] = [order[j], order[i]];
    }
    return order;
  }
}
