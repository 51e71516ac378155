import { Mulberry32 } from '@recon/random';
import { toBfloat16Bits, toFloat16Bits } from './half-precision';

const bf16Value = (bits: number) => new Float32Array(new Uint32Array([bits << 16]).buffer)[0];

/** IEEE half to a number (independent of the encoder under test: by the definition of the format). */
function f16Value(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 0x1f) return fraction ? NaN : sign * Infinity;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

/**
 * Whether `bits` is x rounded to nearest, ties to even: no neighbouring finite pattern (bits ± 1, same sign)
 * is nearer, and at an exact tie the chosen pattern is even.
 */
function isNearestEven(x: number, bits: number, value: (bits: number) => number): boolean {
  const mine = Math.abs(value(bits) - x);
  for (const neighbour of [bits - 1, bits + 1]) {
    if ((neighbour & 0x7fff) === 0x7fff || (neighbour ^ bits) & 0x8000) continue;
    const theirs = Math.abs(value(neighbour) - x);
    if (!Number.isFinite(value(neighbour))) continue;
    if (theirs < mine || (theirs === mine && bits & 1)) return false;
  }
  return true;
}

describe('rounding float32 to bf16 and fp16', () => {
  it('rounds ties to even and everything else to nearest (bf16)', () => {
    // 1 + 2^-8 lies halfway between 1 (even) and 1 + 2^-7; 1 + 3·2^-8 between 1 + 2^-7 and 1 + 2^-6 (even).
    expect(toBfloat16Bits(1 + 2 ** -8)).toBe(0x3f80);
    expect(toBfloat16Bits(1 + 3 * 2 ** -8)).toBe(0x3f82);
    expect(toBfloat16Bits(1 + 2 ** -8 + 2 ** -20)).toBe(0x3f81);
    expect(toBfloat16Bits(-(1 + 2 ** -8 + 2 ** -20))).toBe(0xbf81);
    expect(toBfloat16Bits(3.4028234663852886e38)).toBe(0x7f80); // float32 max rounds up to infinity
    expect(toBfloat16Bits(-Infinity)).toBe(0xff80);
    expect(Number.isNaN(bf16Value(toBfloat16Bits(NaN)))).toBe(true);
    expect(toBfloat16Bits(2 ** -133)).toBe(0x0001); // a float32 subnormal stays one
  });

  it('rounds ties to even, subnormals and overflow included (fp16)', () => {
    expect(toFloat16Bits(1 + 2 ** -11)).toBe(0x3c00);
    expect(toFloat16Bits(1 + 3 * 2 ** -11)).toBe(0x3c02);
    expect(toFloat16Bits(65504)).toBe(0x7bff);
    expect(toFloat16Bits(65519.99)).toBe(0x7bff);
    expect(toFloat16Bits(65520)).toBe(0x7c00); // halfway to the next power: infinity
    expect(toFloat16Bits(2 ** -24)).toBe(0x0001);
    expect(toFloat16Bits(2 ** -25)).toBe(0x0000); // halfway between 0 (even) and the smallest subnormal
    expect(toFloat16Bits(2 ** -25 * 1.0001)).toBe(0x0001);
    expect(toFloat16Bits(3 * 2 ** -25)).toBe(0x0002); // 1.5 subnormal units: to 2 (even)
    expect(toFloat16Bits(2 ** -14 - 2 ** -26)).toBe(0x0400); // carries out of the subnormals
    expect(toFloat16Bits(-0)).toBe(0x8000);
    expect(Number.isNaN(f16Value(toFloat16Bits(NaN)))).toBe(true);
  });

  it('gives the nearest value, ties to even, over random float32s of every magnitude', () => {
    const rng = new Mulberry32(17);
    const words = new Uint32Array(1);
    const floats = new Float32Array(words.buffer);
    for (let i = 0; i < 20_000; i++) {
      words[0] = Math.floor(rng.next() * 2 ** 32);
      const x = floats[0];
      if (!Number.isFinite(x)) continue;
      const bf16 = toBfloat16Bits(x);
      // (Rounding up to infinity near float32's largest values is checked above.)
      if (Number.isFinite(bf16Value(bf16))) expect(isNearestEven(x, bf16, bf16Value)).toBe(true);
      if (Math.abs(x) < 65504) {
        const f16 = toFloat16Bits(x);
        expect(isNearestEven(x, f16, f16Value)).toBe(true);
      }
      // Values the format holds exactly come back unchanged.
      expect(toBfloat16Bits(bf16Value(bf16))).toBe(bf16);
    }
  });
});
