import { createHash } from 'node:crypto';
import { Mulberry32 } from '@recon/random';

/** A seeded generator of uniform numbers in [0, 1): mulberry32 (32-bit state, fast, reproducible). */
export interface Rng {
  next(): number;
  /** A uniform integer in [0, n). */
  int(n: number): number;
  /** The generator's state, to record and restore. */
  state(): number;
}

export function createRng(seed: number): Rng {
  const generator = new Mulberry32(seed);
  const next = () => generator.next();
  return { next, int: (n) => Math.floor(next() * n), state: () => generator.state };
}

/** A 32-bit seed derived from a run seed and names (e.g. game, match index), stable across machines. */
export function deriveSeed(runSeed: number, ...parts: Array<string | number>): number {
  return createHash('sha256').update([runSeed, ...parts].join('\u0000')).digest().readUInt32BE(0);
}

/** Draws a chance outcome from its distribution. */
export function sampleOutcome(outcomes: ReadonlyArray<{ action: number; probability: number }>, rng: Rng): number {
  let u = rng.next();
  for (const outcome of outcomes) {
    u -= outcome.probability;
    if (u < 0) return outcome.action;
  }
  return outcomes[outcomes.length - 1].action;
}
