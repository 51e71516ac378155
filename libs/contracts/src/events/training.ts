import { z } from 'zod';
import { defineEvent } from '../define-event';
import { finite, jsonObject, nonNegativeInt, numberMap, sha256Hex, step } from '../common';

export const trainingPhase = z.enum(['sft', 'grpo']);

export const PolicyInitialised = defineEvent({
  type: 'policy.initialised',
  version: 1,
  owner: 'training',
  description:
    'The policy was built: backend chosen at start-up, model config, seed and initial weights hash.',
  payload: z.strictObject({
    backend: z.strictObject({
      name: z.string().min(1),
      threads: nonNegativeInt,
      simd: z.boolean(),
      /** wasm-openblas: OpenBLAS version and kernel family, e.g. `OpenBLAS 0.3.21 SkylakeX`. */
      blas: z.string().min(1).optional(),
    }),
    modelConfig: jsonObject,
    tokenizerHash: sha256Hex,
    seed: nonNegativeInt,
    weightsHash: sha256Hex,
    /**
     * How the policy's work is split across its compute workers (absent: recorded before they existed, one
     * SFT micro-batch per accumulation step, one generation batch). The parts, not the worker count (in the
     * event's meta), decide the numbers, so a run replays identically on any number of workers.
     */
    dataParallel: z
      .strictObject({
        sftMicroBatchSplit: z.number().int().positive(),
        generationSplit: z.number().int().positive(),
      })
      .optional(),
  }),
});

export const TokenizerTrained = defineEvent({
  type: 'tokenizer.trained',
  version: 1,
  owner: 'training',
  description: 'A BPE tokenizer was trained on a corpus and stored as a blob.',
  payload: z.strictObject({ tokenizerHash: sha256Hex, vocabSize: nonNegativeInt, corpusHash: sha256Hex }),
});

export const SftStepCompleted = defineEvent({
  type: 'sft.step.completed',
  version: 1,
  owner: 'training',
  description: 'One optimiser step of supervised fine-tuning.',
  payload: z.strictObject({
    step,
    loss: finite,
    learningRate: finite,
    gradNorm: finite,
    tokens: nonNegativeInt,
    examples: nonNegativeInt,
    dataPosition: nonNegativeInt,
    metrics: numberMap,
  }),
});

export const CheckpointSaved = defineEvent({
  type: 'checkpoint.saved',
  version: 1,
  owner: 'training',
  description: 'A checkpoint (weights, optimiser and RNG state, data position) was stored as a blob.',
  payload: z.strictObject({
    phase: trainingPhase,
    step,
    checkpointHash: sha256Hex,
    weightsHash: sha256Hex,
    sizeBytes: nonNegativeInt,
  }),
});

export const samplingParams = z.strictObject({
  temperature: z.number().nonnegative(),
  topP: z.number().gt(0).lte(1),
  topK: nonNegativeInt,
  maxTokens: z.number().int().positive(),
  stop: z.array(z.string()),
});

export const RolloutsRequested = defineEvent({
  type: 'rollouts.requested',
  version: 1,
  owner: 'training',
  description: 'Training asks for G completions per prompt from a given policy version.',
  payload: z.strictObject({
    step,
    policyVersion: sha256Hex,
    groupSize: z.number().int().positive(),
    seed: nonNegativeInt,
    sampling: samplingParams,
    prompts: z
      .array(
        z.strictObject({
          promptId: z.string().min(1),
          datasetVersion: sha256Hex,
          rowIndex: nonNegativeInt,
          category: z.string().optional(),
        }),
      )
      .min(1),
  }),
});

export const RolloutShardRequested = defineEvent({
  type: 'rollout.shard.requested',
  version: 1,
  owner: 'training',
  description:
    "The rollout work of one shard of a step's rollouts.requested (grpo.rolloutShards of them, committed with it): a subset of its prompts. On Kafka each shard has its own message key, so the rollout workers of the group generate one step in parallel.",
  payload: RolloutsRequested.payload.extend({
    shard: nonNegativeInt,
    shards: z.number().int().positive(),
  }),
});

export const GrpoStepCompleted = defineEvent({
  type: 'grpo.step.completed',
  version: 1,
  owner: 'training',
  description: 'One GRPO optimiser step over the scored rollouts of a step.',
  payload: z.strictObject({
    step,
    loss: finite,
    learningRate: finite,
    gradNorm: finite,
    rewardMean: finite,
    rewardStd: finite,
    kl: finite,
    metrics: numberMap,
  }),
});

export const PolicyReady = defineEvent({
  type: 'policy.ready',
  version: 1,
  owner: 'training',
  description:
    'A policy stage is ready to evaluate (untrained, after SFT, after GRPO), pinned to a checkpoint.',
  payload: z.strictObject({
    stage: z.enum(['untrained', 'sft', 'grpo']),
    step,
    checkpointHash: sha256Hex,
    final: z.boolean(),
  }),
});

export const PolicySourceResolved = defineEvent({
  type: 'policy.source.resolved',
  version: 1,
  owner: 'training',
  description:
    "The pretrained checkpoint a run starts from, pinned like a dataset: the directory's content hash over every file (path, size, sha256), so resume, replay and export refuse other weights.",
  payload: z.strictObject({
    kind: z.literal('pretrained'),
    /** The directory as the config named it (resolved to an absolute path). */
    path: z.string().min(1),
    architecture: z.string().min(1),
    sha256: sha256Hex,
    files: z
      .array(z.strictObject({ path: z.string().min(1), bytes: nonNegativeInt, sha256: sha256Hex }))
      .min(1),
  }),
});

export const trainingEvents = [
  PolicyReady,
  PolicyInitialised,
  PolicySourceResolved,
  TokenizerTrained,
  SftStepCompleted,
  CheckpointSaved,
  RolloutsRequested,
  RolloutShardRequested,
  GrpoStepCompleted,
] as const;
