/** Small deterministic RNG (mulberry32) whose whole state is one uint32, so checkpoints can hold it. */
export interface RngState {
  algorithm: 'mulberry32';
  state: number;
}

export class Rng {
  private state: number;

  constructor(seed: number) {
    if (!Number.isInteger(seed)) throw new Error(`Rng: seed must be an integer, got ${seed}`);
    this.state = seed >>> 0;
  }

  static fromState(saved: RngState): Rng {
    if (saved.algorithm !== 'mulberry32') throw new Error(`Rng: unknown algorithm "${saved.algorithm}"`);
    return new Rng(saved.state);
  }

  getState(): RngState {
    return { algorithm: 'mulberry32', state: this.state };
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let x = this.state;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  }

  /** Fisher-Yates permutation of 0..n-1. */
  permutation(n: number): number[] {
    const order = Array.from({ length: n }, (_, i) => i);
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1));
      [order[i], order[j]] = [order[j], order[i]];
    }
    return order;
  }
}
