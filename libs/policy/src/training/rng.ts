import { Mulberry32 } from '@recon/random';

/** Small deterministic RNG (mulberry32) whose whole state is one uint32, so checkpoints can hold it. */
export interface RngState {
  algorithm: 'mulberry32';
  state: number;
}

export class Rng extends Mulberry32 {
  constructor(seed: number) {
    if (!Number.isInteger(seed)) throw new Error(`Rng: seed must be an integer, got ${seed}`);
    super(seed);
  }

  static fromState(saved: RngState): Rng {
    if (saved.algorithm !== 'mulberry32') throw new Error(`Rng: unknown algorithm "${saved.algorithm}"`);
    return new Rng(saved.state);
  }

  getState(): RngState {
    return { algorithm: 'mulberry32', state: this.state };
  }
}
