/*
 * float32 -> bf16 / IEEE half, rounding to nearest, ties to even (what PyTorch's .to(torch.bfloat16) and
 * .to(torch.float16) do), so weights merged in float32 are stored as the nearest value of the file's dtype.
 */
const scratch = new Float32Array(1);
const scratchBits = new Uint32Array(scratch.buffer);

function bitsOf(x: number): number {
  scratch[0] = x;
  return scratchBits[0];
}

/** The bf16 bit pattern nearest to x (ties to even); NaN stays a quiet NaN, overflow gives infinity. */
export function toBfloat16Bits(x: number): number {
  const bits = bitsOf(x);
  if ((bits & 0x7fffffff) > 0x7f800000) return (bits >>> 16) | 0x0040;
  return (bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16;
}

/** The IEEE half bit pattern nearest to x (ties to even), subnormals included; overflow gives infinity. */
export function toFloat16Bits(x: number): number {
  const bits = bitsOf(x);
  const sign = (bits >>> 16) & 0x8000;
  const exponent = (bits >>> 23) & 0xff;
  const mantissa = bits & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa ? 0x0200 : 0);
  const e = exponent - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    // A half subnormal m * 2^-24: m = (1.mantissa) * 2^(e + 9), i.e. the 24-bit significand >> (14 - e).
    if (e < -10) return sign;
    const significand = mantissa | 0x800000;
    const shift = 14 - e;
    const rest = significand & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    let m = significand >>> shift;
    if (rest > halfway || (rest === halfway && m & 1)) m += 1;
    return sign | m; // a carry out of the subnormal range is the smallest normal, as it should be
  }
  let half = sign | (e << 10) | (mantissa >>> 13);
  const rest = mantissa & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && half & 1)) half += 1; // a carry into the exponent is correct too
  return half;
}

/** The 16-bit patterns of values in the given half-precision dtype, as bytes. */
export function encodeHalfPrecision(values: Float32Array, dtype: 'BF16' | 'F16'): Uint8Array {
  const out = new Uint16Array(values.length);
  const encode = dtype === 'BF16' ? toBfloat16Bits : toFloat16Bits;
  for (let i = 0; i < values.length; i++) out[i] = encode(values[i]);
  // Host byte order, little-endian on every platform we run on (the float32 writer assumes the same).
  return new Uint8Array(out.buffer);
}
