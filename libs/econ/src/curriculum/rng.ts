import { createHash } from 'node:crypto';
import { Mulberry32 } from '@recon/random';

/** The curriculum's generator: mulberry32, fully determined by its seed. */
export class Rng extends Mulberry32 {
  /** Uniform integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)];
  }
}

/** A 32-bit seed derived from a base seed and labels (sha256), so streams never overlap by accident. */
export function seedFor(...parts: Array<string | number>): number {
  return createHash('sha256').update(parts.join('\u0000')).digest().readUInt32LE(0);
}

/** The seed of draw `index` of a stream: murmur3's finaliser over base + index, cheap enough to call per draw. */
export function drawSeed(base: number, index: number): number {
  let h = (base + Math.imul(index, 0x9e3779b9)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** FNV-1a 32-bit hash of a string: cheap and stable, used to assign a problem to a split. */
export function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}
