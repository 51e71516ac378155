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

/**
 * A local Hugging Face checkpoint (Llama or Qwen2 family: config.json, *.safetensors, tokenizer.json,
 * tokenizer_config.json) trained with LoRA on the named projections; libs/pretrained loads it. The same
 * target names as libs/pretrained/src/lora-settings.ts (PEFT's module names).
 */
const LORA_PROJECTIONS = [
  'q_proj',
  'k_proj',
  'v_proj',
  'o_proj',
  'gate_proj',
  'up_proj',
  'down_proj',
] as const;
const pretrainedLoraSchema = z.strictObject({
  rank: positiveInt.default(16),
  alpha: z.number().positive().default(32),
  dropout: z.literal(0, { message: 'LoRA dropout > 0 is not supported yet' }).default(0),
  targets: z
    .array(z.enum(LORA_PROJECTIONS))
    .min(1)
    .default([...LORA_PROJECTIONS]),
});

const pretrainedPolicySchema = z.strictObject({
  kind: z.literal('pretrained'),
  path: z.string().min(1),
  lora: pretrainedLoraSchema.default(pretrainedLoraSchema.parse({})),
  backend: z.enum(['auto', 'tensorflow-gpu', 'tensorflow', 'wasm-openblas', 'wasm', 'cpu']).default('auto'),
  /** Longest prompt + completion to run (the checkpoint's max_position_embeddings when absent). */
  context: positiveInt.optional(),
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
  /**
   * How a batch is cut into the compute workers' parts: `balanced` sorts its rows by length and cuts where the
   * parts cost about the same, so neither worker waits for the other's long rows; absent or `contiguous`:
   * consecutive rows (runs recorded before the option replay unchanged).
   */
  partition: z.enum(['contiguous', 'balanced']).optional(),
});

const grpoSchema = z
  .strictObject({
    steps: nonNegativeInt.default(2250),
    promptsPerStep: positiveInt.default(4),
    numGenerations: z.number().int().min(2).default(8),
    /**
     * Micro-batches per optimizer step: the step's promptsPerStep x numGenerations completions are cut into
     * this many, their gradients summed (TRL's gradient_accumulation_steps; the paper's 8 x 4 = 32).
     */
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
    /** As sft.partition, for each GRPO micro-batch's completions (prompt and completion lengths). */
    partition: z.enum(['contiguous', 'balanced']).optional(),
    /** How long training waits for every named reward service to register before it fails the run. */
    rewardWaitSeconds: positiveInt.default(120),
  })
  .refine((grpo) => grpo.epsilonHigh === undefined || grpo.epsilonHigh >= grpo.epsilon, {
    message: 'epsilonHigh must be at least epsilon',
    path: ['epsilonHigh'],
  })
  .superRefine((grpo, context) => {
    const completions = grpo.promptsPerStep * grpo.numGenerations;
    if (completions % grpo.gradientAccumulation !== 0)
      context.addIssue({
        code: 'custom',
        path: ['gradientAccumulation'],
        message: `${grpo.gradientAccumulation} does not divide promptsPerStep x numGenerations = ${completions}: a step's completions are cut into gradientAccumulation equal micro-batches`,
      });
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
  /**
   * GRPO problems of their own, none of them an SFT row (as the paper trains GRPO on other problems than its
   * SFT traces): this many more items of the same categories (and games, in gameTrainItems' proportion).
   * Absent: GRPO draws its prompts from the SFT rows' problems, as before the option existed.
   */
  grpoItems: positiveInt.optional(),
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

/** The ten GTBench games (games.md §3.3), in the order they are played. */
export const GTBENCH_GAMES = [
  'tictactoe',
  'connect4',
  'breakthrough',
  'first_sealed_auction',
  'kuhn_poker',
  'liars_dice',
  'negotiation',
  'nim',
  'pig',
  'prisoners_dilemma',
] as const;

const opponentName = z.string().min(1).max(120).regex(/^\S+$/, 'a name without spaces');

/**
 * A GTBench opponent: a built-in engine by name, an OpenAI-compatible model (every request recorded on the
 * run's stream as external evaluation records them), or a built-in checkpoint: a stage of this run (each pair
 * of stages plays once, the later stage as the evaluated agent) or of another run in the same home.
 */
export const engineOpponentSchema = z.enum(['random', 'mcts', 'mcts-fair', 'tit-for-tat'], {
  error: (issue) =>
    `unknown opponent ${JSON.stringify(issue.input)}: a built-in one is random, mcts, mcts-fair or tit-for-tat; an LLM or a checkpoint is an object with kind: openai or kind: checkpoint`,
});
export const textOpponentSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('openai'),
    /** How results and reports name it; default `openai:<model>`. */
    name: opponentName.optional(),
    baseUrl: z.url(),
    model: z.string().min(1),
    /** The environment variable holding the API key, read where the evaluation runs (never recorded). */
    apiKeyEnv: z.string().min(1).optional(),
    /** GTBench's own LLM settings (games.md §4): temperature 0.2, at most 1,024 tokens. */
    temperature: z.number().min(0).max(2).default(0.2),
    maxTokens: positiveInt.default(1024),
    /** Requests in flight at most (an external evaluation plays matches concurrently; a run, one at a time). */
    concurrency: positiveInt.default(4),
    timeoutMs: positiveInt.default(120_000),
    /** Retries after the first attempt (timeouts, network errors, 408/429/5xx, malformed bodies). */
    retries: nonNegativeInt.default(3),
    /** First backoff delay of a retry; doubles each retry. */
    minBackoffMs: positiveInt.default(500),
  }),
  z.strictObject({
    kind: z.literal('checkpoint'),
    /** How results and reports name it; default `checkpoint:<stage>`, or `checkpoint:<run>/<stage>`. */
    name: opponentName.optional(),
    /** Another run of the same home; absent: this run. */
    run: z.string().min(1).optional(),
    stage: z.enum(['untrained', 'sft', 'grpo']),
    /** Sampling of its replies; default the suite's temperature and completion budget. */
    temperature: z.number().min(0).optional(),
    maxNewTokens: positiveInt.optional(),
  }),
]);
export type GtbenchOpponentSetting =
  z.infer<typeof engineOpponentSchema> | z.infer<typeof textOpponentSchema>;

/** A name is an engine, an object an LLM or checkpoint: each is checked as what it is, so errors name the field. */
export const gtbenchOpponentSchema = z.unknown().transform((value, context): GtbenchOpponentSetting => {
  const parsed = (typeof value === 'string' ? engineOpponentSchema : textOpponentSchema).safeParse(value);
  if (parsed.success) return parsed.data;
  for (const issue of parsed.error.issues)
    context.addIssue(
      issue.code === 'unrecognized_keys'
        ? { code: 'unrecognized_keys', keys: issue.keys, message: issue.message, path: issue.path }
        : { code: 'custom', message: issue.message, path: issue.path },
    );
  return z.NEVER;
});

/** How results, match ids and reports name an opponent. */
export function gtbenchOpponentName(opponent: GtbenchOpponentSetting): string {
  if (typeof opponent === 'string') return opponent;
  if (opponent.name) return opponent.name;
  if (opponent.kind === 'openai') return `openai:${opponent.model}`;
  return `checkpoint:${opponent.run ? `${opponent.run}/` : ''}${opponent.stage}`;
}

/**
 * The opponents of a GTBench suite, each a name or an object as above, named apart (results are keyed by
 * name). `evaluation.gtbench.opponents` and `recon eval --opponents` are both checked by it.
 */
export const gtbenchOpponentsSchema = z
  .array(gtbenchOpponentSchema)
  .min(1)
  .superRefine((opponents, context) => {
    const seen = new Map<string, number>();
    opponents.forEach((opponent, i) => {
      const name = gtbenchOpponentName(opponent);
      const first = seen.get(name);
      if (first !== undefined)
        context.addIssue({
          code: 'custom',
          path: [i],
          message: `opponent '${name}' is also opponent ${first}: give one of them another name`,
        });
      seen.set(name, i);
    });
  });

const evaluationSchema = z.strictObject({
  stages: z
    .array(z.enum(['untrained', 'sft', 'grpo']))
    .min(1)
    .default(['untrained', 'sft', 'grpo']),
  heldOut: z
    .strictObject({ items: positiveInt.default(300), temperature: z.number().min(0).default(0) })
    .optional(),
  reconEval: z
    .strictObject({
      temperature: z.number().min(0).default(0),
      /** Recon-Eval rows evaluated (a seeded draw stratified by category); absent: heldOut.items, else all. */
      items: positiveInt.optional(),
    })
    .optional(),
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
      opponents: gtbenchOpponentsSchema.default(['random', 'mcts']),
      /** The games to play (all ten of GTBench when absent), in GTBench's order whatever the order here. */
      games: z
        .array(z.enum(GTBENCH_GAMES))
        .min(1)
        .refine((games) => new Set(games).size === games.length, { message: 'each game may appear once' })
        .optional(),
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
  policy: z.discriminatedUnion('kind', [builtinPolicySchema, openAiPolicySchema, pretrainedPolicySchema]),
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
