import { z } from 'zod';

/** Architectures whose forward pass we implement, by the name config.json gives in `architectures`. */
export const SUPPORTED_ARCHITECTURES = ['LlamaForCausalLM', 'Qwen2ForCausalLM'] as const;
export type Architecture = (typeof SUPPORTED_ARCHITECTURES)[number];

export const SUPPORTED_ROPE_SCALING = ['linear', 'llama3'] as const;

const positiveInt = z.number().int().positive();

const ropeScalingSchema = z
  .looseObject({
    rope_type: z.string().optional(),
    type: z.string().optional(),
    factor: z.number().positive().optional(),
    low_freq_factor: z.number().positive().optional(),
    high_freq_factor: z.number().positive().optional(),
    original_max_position_embeddings: positiveInt.optional(),
  })
  .nullable()
  .optional();

/** The fields of a Llama/Qwen2 config.json that the forward pass reads (others are ignored). */
const hfConfigSchema = z.looseObject({
  architectures: z.array(z.string()).min(1),
  hidden_size: positiveInt,
  intermediate_size: positiveInt,
  num_hidden_layers: positiveInt,
  num_attention_heads: positiveInt,
  num_key_value_heads: positiveInt.optional(),
  head_dim: positiveInt.nullable().optional(),
  vocab_size: positiveInt,
  max_position_embeddings: positiveInt,
  rms_norm_eps: z.number().positive(),
  rope_theta: z.number().positive().optional(),
  rope_scaling: ropeScalingSchema,
  rope_parameters: ropeScalingSchema
    .and(z.looseObject({ rope_theta: z.number().positive().optional() }))
    .optional(),
  tie_word_embeddings: z.boolean().optional(),
  hidden_act: z.string().optional(),
  attention_bias: z.boolean().optional(),
  mlp_bias: z.boolean().optional(),
  use_sliding_window: z.boolean().optional(),
  bos_token_id: z
    .union([z.number().int(), z.array(z.number().int())])
    .nullable()
    .optional(),
  eos_token_id: z
    .union([z.number().int(), z.array(z.number().int())])
    .nullable()
    .optional(),
});

export type RopeScaling =
  | { type: 'linear'; factor: number }
  | {
      type: 'llama3';
      factor: number;
      lowFreqFactor: number;
      highFreqFactor: number;
      originalMaxPositions: number;
    };

/** What the forward pass needs to know about a checkpoint, in our names. */
export interface ModelSpec {
  architecture: Architecture;
  hidden: number;
  intermediate: number;
  layers: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  vocabSize: number;
  maxPositions: number;
  rmsEps: number;
  ropeTheta: number;
  ropeScaling?: RopeScaling;
  tieEmbeddings: boolean;
  /** Which projections carry a bias (Qwen2: q, k, v; Llama: per attention_bias / mlp_bias). */
  biases: { qkv: boolean; o: boolean; mlp: boolean };
  eosTokenIds: number[];
}

function fail(where: string, message: string): never {
  throw new Error(`${where}: ${message}`);
}

function parseRopeScaling(value: z.infer<typeof ropeScalingSchema>, where: string): RopeScaling | undefined {
  if (!value) return undefined;
  const type = value.rope_type ?? value.type;
  if (type === undefined || type === 'default') return undefined;
  const need = (field: keyof typeof value): number => {
    const v = value[field];
    if (typeof v !== 'number') fail(where, `rope_scaling type ${type} needs ${String(field)}`);
    return v;
  };
  if (type === 'linear') return { type, factor: need('factor') };
  if (type === 'llama3')
    return {
      type,
      factor: need('factor'),
      lowFreqFactor: need('low_freq_factor'),
      highFreqFactor: need('high_freq_factor'),
      originalMaxPositions: need('original_max_position_embeddings'),
    };
  return fail(
    where,
    `rope_scaling type ${type} is not supported (supported: ${SUPPORTED_ROPE_SCALING.join(', ')}, or none)`,
  );
}

function ids(value: number | number[] | null | undefined): number[] {
  if (value === null || value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

/** Validates a parsed config.json and returns its ModelSpec; `where` names the file in errors. */
export function parseHfConfig(json: unknown, where = 'config.json'): ModelSpec {
  const result = hfConfigSchema.safeParse(json);
  if (!result.success) {
    const issue = result.error.issues[0];
    fail(where, `${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  const c = result.data;
  const architecture = c.architectures[0];
  if (!(SUPPORTED_ARCHITECTURES as readonly string[]).includes(architecture))
    fail(
      where,
      `architecture ${architecture} is not supported (supported: ${SUPPORTED_ARCHITECTURES.join(', ')})`,
    );
  if (c.hidden_act !== undefined && c.hidden_act !== 'silu')
    fail(where, `hidden_act ${c.hidden_act} is not supported (the SwiGLU MLP uses silu)`);
  if (c.use_sliding_window) fail(where, 'use_sliding_window: sliding-window attention is not supported');
  const heads = c.num_attention_heads;
  const kvHeads = c.num_key_value_heads ?? heads;
  if (heads % kvHeads !== 0)
    fail(where, `num_attention_heads ${heads} is not a multiple of num_key_value_heads ${kvHeads}`);
  const headDim = c.head_dim ?? c.hidden_size / heads;
  if (!Number.isInteger(headDim) || headDim % 2 !== 0)
    fail(
      where,
      `head dimension ${headDim} must be an even integer (hidden_size / num_attention_heads or head_dim)`,
    );
  // transformers 5 moved rope_theta and the scaling into rope_parameters.
  const ropeTheta = c.rope_theta ?? c.rope_parameters?.rope_theta ?? 10_000;
  const qwen = architecture === 'Qwen2ForCausalLM';
  return {
    architecture: architecture as Architecture,
    hidden: c.hidden_size,
    intermediate: c.intermediate_size,
    layers: c.num_hidden_layers,
    heads,
    kvHeads,
    headDim,
    vocabSize: c.vocab_size,
    maxPositions: c.max_position_embeddings,
    rmsEps: c.rms_norm_eps,
    ropeTheta,
    ropeScaling: parseRopeScaling(c.rope_scaling ?? c.rope_parameters, where),
    tieEmbeddings: c.tie_word_embeddings ?? false,
    biases: {
      qkv: qwen || (c.attention_bias ?? false),
      o: !qwen && (c.attention_bias ?? false),
      mlp: !qwen && (c.mlp_bias ?? false),
    },
    eosTokenIds: ids(c.eos_token_id),
  };
}
