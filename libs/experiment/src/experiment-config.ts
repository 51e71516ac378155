import { z } from 'zod';

const positiveInt = z.number().int().positive();
const nonNegativeInt = z.number().int().nonnegative();
const probability = z.number().min(0).max(1);

const loraSchema = z.strictObject({
  rank: positiveInt.default(8),
  alpha: z.number().positive().default(16),
  targets: z
    .array(z.enum(['q', 'k', 'v', 'o', 'up', 'down']))
    .min(1)
    .default(['q', 'k', 'v', 'o']),
});

const builtinPolicySchema = z.strictObject({
  kind: z.literal('builtin'),
  dModel: positiveInt.default(128),
  nLayers: positiveInt.default(4),
  nHeads: positiveInt.default(4),
  contextLength: positiveInt.default(256),
  vocabSize: positiveInt.default(512),
  positional: z.enum(['learned']).default('learned'),
  tieEmbeddings: z.boolean().default(true),
  /**
   * Numeric backend: the first that loads of tensorflow-gpu, tensorflow, wasm-openblas (wasm with OpenBLAS
   * matmuls), wasm, cpu ('auto'), or exactly one.
   */
  backend: z.enum(['auto', 'tensorflow-gpu', 'tensorflow', 'wasm-openblas', 'wasm', 'cpu']).default('auto'),
  /**
   * Worker threads that train and sample the policy (RECON_POLICY_WORKERS overrides): `auto` (what absent
   * means) is one per core, at most two. Results do not depend on it; the run records it in event meta.
   */
  workers: z.union([z.literal('auto'), positiveInt]).optional(),
});

const openAiPolicySchema = z.strictObject({
  kind: z.literal('openai'),
  baseUrl: z.url(),
  model: z.string().min(1),
  apiKeyEnv: z.string().min(1).optional(),
  concurrency: positiveInt.default(4),
  timeoutMs: positiveInt.default(120_000),
  retries: nonNegativeInt.default(3),
});

/** Defaults are the paper's where they apply (recon-reference.md), scaled where the built-in policy needs it. */
const sftSchema = z.strictObject({
  steps: nonNegativeInt.default(2700),
  batchSize: positiveInt.default(8),
  gradientAccumulation: positiveInt.default(1),
  learningRate: z.number().positive().default(2e-4),
  schedule: z.enum(['linear', 'cosine', 'constant']).default('linear'),
  warmupSteps: nonNegativeInt.default(5),
  weightDecay: z.number().min(0).default(0.01),
  maxGradNorm: z.number().positive().default(1.0),
  lora: loraSchema.optional(),
  /**
   * Batches of similar length, grouped over windows of this many steps: with long game-format rows in the
   * mix, a batch pads to its own rows' length instead of the longest row it happens to draw. Absent: plain
   * shuffled batches (runs recorded before the option replay unchanged).
   */
  lengthGroupWindow: positiveInt.optional(),
});

const grpoSchema = z
  .strictObject({
    steps: nonNegativeInt.default(2250),
    promptsPerStep: positiveInt.default(4),
    numGenerations: z.number().int().min(2).default(8),
    gradientAccumulation: positiveInt.default(4),
    learningRate: z.number().positive().default(5e-6),
    schedule: z.enum(['linear', 'cosine', 'constant']).default('cosine'),
    warmupRatio: probability.default(0.1),
    adamBetas: z.tuple([probability, probability]).default([0.9, 0.99]),
    weightDecay: z.number().min(0).default(0.1),
    maxGradNorm: z.number().positive().default(0.1),
    beta: z.number().min(0).default(0.04),
    epsilon: z.number().positive().default(0.2),
    epsilonHigh: z.number().positive().optional(),
    lossType: z.enum(['grpo', 'bnpo', 'dr_grpo', 'dapo']).default('grpo'),
    scaleRewards: z.enum(['group', 'batch', 'none']).default('group'),
    numIterations: positiveInt.default(1),
    temperature: z.number().min(0).default(1.0),
    topP: z.number().gt(0).lte(1).default(1.0),
    topK: nonNegativeInt.default(0),
    maxCompletionTokens: positiveInt.default(6144),
    lora: loraSchema.optional(),
    /**
     * Shards a step's rollout work is split into (at most promptsPerStep): each is its own Kafka key, so that
     * many rollout workers generate one step in parallel. 1 keeps a step in one generation batch.
     */
    rolloutShards: z.number().int().min(1).max(64).default(1),
    /** How long training waits for every named reward service to register before it fails the run. */
    rewardWaitSeconds: positiveInt.default(120),
  })
  .refine((grpo) => grpo.epsilonHigh === undefined || grpo.epsilonHigh >= grpo.epsilon, {
    message: 'epsilonHigh must be at least epsilon',
    path: ['epsilonHigh'],
  });

const curriculumSchema = z.strictObject({
  style: z.enum(['compact', 'paper']).default('compact'),
  categories: z.array(z.string().min(1)).min(1).optional(),
  trainItems: positiveInt.default(2000),
  testItems: positiveInt.default(300),
  /**
   * Game-format train items (the complete-information games' exact prompts on generated games, answered
   * `<s>choice_k</s>`) added to the SFT traces and GRPO problems, half simultaneous and half sequential.
   * Absent means none, as before the option existed.
   */
  gameTrainItems: z.number().int().nonnegative().optional(),
});

const reconDataSchema = z.strictObject({
  path: z.string().min(1),
  train: z.string().default('train_dataset.csv'),
  eval: z.string().default('eval_dataset.csv'),
  sft: z.string().default('sft_cot_dataset.csv'),
});

const rewardSchema = z.strictObject({
  id: z.string().min(1),
  version: z.string().min(1).optional(),
  weight: z.number().finite().default(1),
});

/**
 * How a game suite decodes the built-in policy's replies: `free` sampling (the default, and the only mode of
 * runs recorded before the setting), `constrained` to the legal moves' reply texts, or `both` (free-form for
 * the valid-move rate, constrained for equilibrium and win rates; each result labelled with its mode).
 */
export const gameDecodingSchema = z.enum(['free', 'constrained', 'both']);
export type GameDecodingSetting = z.infer<typeof gameDecodingSchema>;

/** The decoding modes a suite plays, in order; an absent setting is free-form only. */
export const decodingModes = (setting: GameDecodingSetting | undefined): Array<'free' | 'constrained'> =>
  setting === 'both' ? ['free', 'constrained'] : [setting ?? 'free'];

const evaluationSchema = z.strictObject({
  stages: z
    .array(z.enum(['untrained', 'sft', 'grpo']))
    .min(1)
    .default(['untrained', 'sft', 'grpo']),
  heldOut: z
    .strictObject({ items: positiveInt.default(300), temperature: z.number().min(0).default(0) })
    .optional(),
  reconEval: z.strictObject({ temperature: z.number().min(0).default(0) }).optional(),
  completeInformation: z
    .strictObject({
      trials: positiveInt.default(20),
      temperature: z.number().min(0).default(0.6),
      /** Hua et al.'s protocol correction: re-ask an unparseable reply up to this many times. */
      reasks: nonNegativeInt.default(5),
      /** Completion budget per decision; defaults to evaluation.maxNewTokens. */
      maxNewTokens: positiveInt.optional(),
      /** Absent means free: parsed configs of earlier runs stay unchanged. */
      decoding: gameDecodingSchema.optional(),
    })
    .optional(),
  gtbench: z
    .strictObject({
      matches: positiveInt.default(10),
      temperature: z.number().min(0).default(0.6),
      opponents: z
        .array(z.enum(['random', 'mcts', 'mcts-fair', 'tit-for-tat']))
        .min(1)
        .default(['random', 'mcts']),
      invalidPolicy: z.enum(['forfeit', 'abnormal', 'reask']).default('abnormal'),
      /** Re-asks per decision when invalidPolicy is reask. */
      reasks: positiveInt.default(3),
      /** Completion budget per move; defaults to evaluation.maxNewTokens. */
      maxNewTokens: positiveInt.optional(),
      /** Absent means free: parsed configs of earlier runs stay unchanged. */
      decoding: gameDecodingSchema.optional(),
    })
    .optional(),
  maxNewTokens: positiveInt.default(6144),
});

export const experimentConfigSchema = z.strictObject({
  name: z.string().min(1),
  seed: nonNegativeInt.default(42),
  datasets: z
    .strictObject({ curriculum: curriculumSchema.optional(), recon: reconDataSchema.optional() })
    .refine((d) => d.curriculum !== undefined || d.recon !== undefined, {
      message: 'name at least one dataset source: curriculum or recon',
    }),
  policy: z.discriminatedUnion('kind', [builtinPolicySchema, openAiPolicySchema]),
  tokenizer: z
    .strictObject({
      vocabSize: positiveInt.default(512),
      /**
       * `words` (what absent means): merges stay inside words. `phrases`: merges may cross spaces and only
       * digit runs are cut, so templated prompts (the games' rule lines) take several times fewer tokens.
       */
      pretokenizer: z.enum(['words', 'phrases']).optional(),
    })
    .default({ vocabSize: 512 }),
  sft: sftSchema.optional(),
  grpo: grpoSchema.optional(),
  rewards: z
    .array(rewardSchema)
    .min(1)
    .refine((rewards) => new Set(rewards.map((r) => r.id)).size === rewards.length, {
      message: 'each reward id may appear once',
    })
    .default([{ id: 'recon-hierarchical', weight: 1 }]),
  evaluation: evaluationSchema.default({ stages: ['untrained', 'sft', 'grpo'], maxNewTokens: 6144 }),
});

export type ExperimentConfig = z.infer<typeof experimentConfigSchema>;
