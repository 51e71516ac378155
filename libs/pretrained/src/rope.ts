import type { ModelSpec } from './hf-config';

/**
 * Rotary inverse frequencies 1 / theta^(2i/d), i < d/2, with the config's scaling applied as transformers
 * does (modeling_rope_utils): `linear` divides them by the factor (positions / factor); `llama3` divides
 * low frequencies by the factor, keeps high ones, and blends the band between.
 */
export function inverseFrequencies(
  spec: Pick<ModelSpec, 'headDim' | 'ropeTheta' | 'ropeScaling'>,
): Float32Array {
  const { headDim, ropeTheta, ropeScaling } = spec;
  // float32 as torch computes them, so angles round the same way.
  const base = Float32Array.from({ length: headDim / 2 }, (_, i) => 1 / ropeTheta ** ((2 * i) / headDim));
  if (!ropeScaling) return base;
  if (ropeScaling.type === 'linear') return base.map((f) => f / ropeScaling.factor);
  const { factor, lowFreqFactor, highFreqFactor, originalMaxPositions } = ropeScaling;
  const lowFreqWavelen = originalMaxPositions / lowFreqFactor;
  const highFreqWavelen = originalMaxPositions / highFreqFactor;
  return base.map((f) => {
    const wavelen = (2 * Math.PI) / f;
    if (wavelen < highFreqWavelen) return f;
    if (wavelen > lowFreqWavelen) return f / factor;
    const smooth = (originalMaxPositions / wavelen - lowFreqFactor) / (highFreqFactor - lowFreqFactor);
    return (1 - smooth) * (f / factor) + smooth * f;
  });
}
