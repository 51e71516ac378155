import {
  type ModelSpec,
  parameterCount as specParameterCount,
  type Projection,
  projectionShape,
} from '@recon/pretrained';

/** What sizes a Llama/Qwen2 decoder: the ModelSpec fields that count parameters and activations. */
export type DecoderShape = Pick<
  ModelSpec,
  'hidden' | 'intermediate' | 'layers' | 'heads' | 'kvHeads' | 'headDim' | 'tieEmbeddings'
> & {
  vocab: number;
  /** Qwen2's q/k/v biases. */
  qkvBias: boolean;
};

/** The ~100M-parameter Llama the bench generates (tied embeddings, as Qwen2.5-0.5B/1.5B and Llama 3.2 1B). */
export const BENCH_MODEL: DecoderShape = {
  hidden: 768,
  intermediate: 2048,
  layers: 12,
  heads: 12,
  kvHeads: 4,
  headDim: 64,
  vocab: 32_000,
  tieEmbeddings: true,
  qkvBias: false,
};

/** A tiny Llama of the same layout, for the logits check against PyTorch. */
export const PARITY_MODEL: DecoderShape = {
  hidden: 64,
  intermediate: 128,
  layers: 2,
  heads: 4,
  kvHeads: 2,
  headDim: 16,
  vocab: 512,
  tieEmbeddings: true,
  qkvBias: false,
};

/**
 * Published configs (config.json on the Hugging Face Hub) of the models issue 23 names. Their parameter
 * counts (parameterCount) are the ones the model cards give: 0.49B, 1.54B, 7.62B.
 */
export const PUBLISHED_MODELS: Record<string, DecoderShape> = {
  'Qwen2.5-0.5B': {
    hidden: 896,
    intermediate: 4864,
    layers: 24,
    heads: 14,
    kvHeads: 2,
    headDim: 64,
    vocab: 151_936,
    tieEmbeddings: true,
    qkvBias: true,
  },
  'Qwen2.5-1.5B': {
    hidden: 1536,
    intermediate: 8960,
    layers: 28,
    heads: 12,
    kvHeads: 2,
    headDim: 128,
    vocab: 151_936,
    tieEmbeddings: true,
    qkvBias: true,
  },
  // DeepSeek-R1-Distill-Qwen-7B has the same shape (it is distilled into Qwen2.5-Math-7B).
  'Qwen2.5-7B': {
    hidden: 3584,
    intermediate: 18944,
    layers: 28,
    heads: 28,
    kvHeads: 4,
    headDim: 128,
    vocab: 152_064,
    tieEmbeddings: false,
    qkvBias: true,
  },
};

/**
 * The shape as libs/pretrained's ModelSpec (what loading such a config.json gives), so the counts below are
 * the loader's own. Only the fields that size tensors matter here.
 */
function modelSpec(shape: DecoderShape): ModelSpec {
  return {
    architecture: shape.qkvBias ? 'Qwen2ForCausalLM' : 'LlamaForCausalLM',
    hidden: shape.hidden,
    intermediate: shape.intermediate,
    layers: shape.layers,
    heads: shape.heads,
    kvHeads: shape.kvHeads,
    headDim: shape.headDim,
    vocabSize: shape.vocab,
    maxPositions: 0,
    rmsEps: 1e-6,
    ropeTheta: 10_000,
    tieEmbeddings: shape.tieEmbeddings,
    biases: { qkv: shape.qkvBias, o: false, mlp: false },
    eosTokenIds: [],
  };
}

/** Input and output widths of a projection. */
export function projectionWidths(shape: DecoderShape, projection: Projection): [number, number] {
  return projectionShape(modelSpec(shape), projection);
}

/** Every tensor the loader expects (embeddings, projections and their biases, norms, an untied head). */
export function parameterCount(shape: DecoderShape): number {
  return specParameterCount(modelSpec(shape));
}

/** LoRA A [in, r] and B [r, out] on each target of every layer. */
export function loraParameterCount(
  shape: DecoderShape,
  rank: number,
  targets: readonly Projection[],
): number {
  return (
    shape.layers *
    targets.reduce((sum, p) => {
      const [din, dout] = projectionWidths(shape, p);
      return sum + rank * (din + dout);
    }, 0)
  );
}
