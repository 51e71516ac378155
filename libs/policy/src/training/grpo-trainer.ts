import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import { combineRewards, groupAdvantages, mean, std } from './advantages';
import { buildTokenBatch, disposeBatch, namedGradients, TokenBatch } from './batching';
import { adamWSchema, grpoConfigSchema, lrScheduleSchema, parseConfig } from './config';
import { grpoLoss, grpoTokenMetrics } from './grpo-loss';
import { AdamW, applyAccumulated, disposeAll, GradientAccumulator, NamedTensors } from './optimizer';
import { ReferencePolicy, TrainablePolicy } from './policy';
import { batchPartitionSchema, partitionRows } from './partition';
import { LrSchedule } from './schedule';
import { TrainerState } from './trainer-state';

export const grpoTrainerConfigSchema = z.object({
  grpo: grpoConfigSchema,
  /** Rows (completions) per forward/backward pass; the batch is split into micro-batches of this size. */
  microBatchSize: z.number().int().positive(),
  maxGradNorm: z.number().positive().optional(),
  padId: z.number().int().min(0),
  maxLength: z.number().int().positive().optional(),
  /** Sampling temperature of the rollouts; log-probs are scored with logits / temperature, as TRL does. */
  temperature: z.number().positive().default(1),
  /** How each micro-batch is cut into its `split` parts (partitionRows). */
  partition: batchPartitionSchema.default('contiguous'),
  schedule: lrScheduleSchema,
  optimizer: adamWSchema.default(adamWSchema.parse({})),
});
export type GrpoTrainerConfig = z.output<typeof grpoTrainerConfigSchema>;
export type GrpoTrainerConfigInput = z.input<typeof grpoTrainerConfigSchema>;

/** One sampled completion as the rollout side recorded it. */
export interface Completion {
  completionIds: readonly number[];
  /** Reward per component id (unweighted). */
  rewards: Readonly<Record<string, number>>;
  /** Per-token log-probs under the sampling policy (at the configured temperature); pi_old when given. */
  oldLogProbs?: readonly number[];
  /** Generation stopped at max tokens rather than at a stop token. */
  truncated?: boolean;
}

/** A prompt and its G completions. */
export interface RolloutGroup {
  promptIds: readonly number[];
  completions: readonly Completion[];
}

export interface GrpoStepMetrics {
  step: number;
  /** 0-based index within numIterations for this batch. */
  iteration: number;
  loss: number;
  reward: number;
  /** Mean of the per-group reward stds (TRL's reward_std). */
  rewardStd: number;
  rewards: Record<string, { mean: number; std: number }>;
  fracRewardZeroStd: number;
  completionLength: { mean: number; min: number; max: number };
  /** Fraction of completions cut at max tokens (TRL completions/clipped_ratio). */
  clippedRatio: number;
  kl?: number;
  clipRatio: { low: number; high: number; region: number };
  entropy: number;
  gradNorm: number;
  learningRate: number;
  stepTimeMs: number;
}

export interface PreparedMicroBatch {
  batch: TokenBatch;
  advantages: tf.Tensor1D;
  advantageValues: number[];
  old?: tf.Tensor2D;
  ref?: tf.Tensor2D;
}

export function disposePrepared(m: PreparedMicroBatch): void {
  disposeBatch(m.batch);
  m.advantages.dispose();
  m.old?.dispose();
  m.ref?.dispose();
}

interface PlannedRow {
  promptIds: readonly number[];
  completion: Completion;
  where: string;
}

/** A GRPO batch ready to train on: rows, advantages and each micro-batch's rows (summed in this order). */
export interface GrpoStepPlan {
  rows: PlannedRow[];
  advantages: number[];
  microBatches: number[][];
  numItemsInBatch: number;
  iterations: number;
  rewardStats: Pick<
    GrpoStepMetrics,
    'reward' | 'rewardStd' | 'rewards' | 'fracRewardZeroStd' | 'completionLength' | 'clippedRatio'
  >;
}

/** One micro-batch's share of a step's metrics: its loss, completion tokens and token-weighted sums. */
export interface GrpoMicroBatchMetrics {
  loss: number;
  tokens: number;
  low: number;
  high: number;
  region: number;
  kl: number;
  entropy: number;
}

/**
 * GRPO update over rollouts produced elsewhere (TRL GRPOTrainer semantics): group-relative advantages,
 * clipped-ratio loss with optional k3 KL to the reference, the chosen loss aggregation, gradient
 * accumulation over micro-batches, clipping, AdamW; `numIterations` updates per rollout batch.
 */
export class GrpoTrainer {
  readonly config: GrpoTrainerConfig;
  private readonly optimizer: AdamW;
  private readonly schedule: LrSchedule;

  constructor(
    private readonly policy: TrainablePolicy,
    private readonly reference: ReferencePolicy | undefined,
    config: GrpoTrainerConfigInput,
  ) {
    this.config = parseConfig(grpoTrainerConfigSchema, config, 'GRPO trainer config');
    if (this.config.grpo.beta > 0 && !reference)
      throw new Error('GrpoTrainer: grpo.beta > 0 needs a reference policy');
    this.optimizer = new AdamW(policy.trainableWeights(), this.config.optimizer);
    this.schedule = new LrSchedule(this.config.schedule);
  }

  get step(): number {
    return this.optimizer.step;
  }

  /** Runs numIterations optimiser steps on one batch of rollout groups; one metrics record per step. */
  train(groups: readonly RolloutGroup[], split = 1): GrpoStepMetrics[] {
    const started = performance.now();
    const plan = this.planStep(groups, split);
    const micro = plan.microBatches.map((_, k) => this.prepareMicroBatch(plan, k));
    const metrics: GrpoStepMetrics[] = [];
    try {
      for (let iteration = 0; iteration < plan.iterations; iteration++) {
        // The first step's time includes preparing the batch (reference and old log-probs).
        const stepStarted = iteration === 0 ? started : performance.now();
        const accumulator = new GradientAccumulator();
        const results: GrpoMicroBatchMetrics[] = [];
        for (const m of micro) {
          const { grads, ...result } = this.microBatchGradients(plan, m);
          results.push(result);
          accumulator.add(grads);
          disposeAll(grads);
        }
        const update = this.applyGradients(accumulator);
        metrics.push(this.stepMetrics(plan, iteration, results, update, performance.now() - stepStarted));
      }
    } finally {
      for (const m of micro) disposePrepared(m);
    }
    return metrics;
  }

  /**
   * Validates a batch of rollout groups, computes its advantages and reward statistics, and cuts it into
   * micro-batches of microBatchSize rows, each cut into `split` parts (config.partition). The step's gradient
   * is the sum of the parts' gradients in this order, wherever each is computed.
   */
  planStep(groups: readonly RolloutGroup[], split = 1): GrpoStepPlan {
    const grpo = this.config.grpo;
    const rows = this.flatten(groups);
    const componentIds = Object.keys(rows[0].completion.rewards).sort();
    const components: Record<string, number[]> = {};
    for (const id of componentIds) components[id] = rows.map((r) => r.completion.rewards[id]);
    const advantageResult = groupAdvantages(combineRewards(components, grpo.rewardWeights), {
      numGenerations: grpo.numGenerations,
      scaleRewards: grpo.scaleRewards,
      epsilon: grpo.advantageEpsilon,
      unbiasedStd: grpo.unbiasedStd,
    });
    const lengths = rows.map((r) => r.completion.completionIds.length);
    const microBatches: number[][] = [];
    const { microBatchSize, partition } = this.config;
    for (let start = 0; start < rows.length; start += microBatchSize) {
      const end = Math.min(start + microBatchSize, rows.length);
      const rowLengths = rows
        .slice(start, end)
        .map((r) => r.promptIds.length + r.completion.completionIds.length);
      for (const part of partitionRows(rowLengths, split, partition))
        microBatches.push(part.map((i) => start + i));
    }
    return {
      rows,
      advantages: advantageResult.advantages,
      microBatches,
      // Completion tokens of the whole batch, as buildTokenBatch counts them (each completion's length).
      numItemsInBatch: lengths.reduce((a, b) => a + b, 0),
      iterations: grpo.numIterations,
      rewardStats: {
        reward: mean(advantageResult.rewards),
        rewardStd: mean(advantageResult.groupStd),
        rewards: Object.fromEntries(
          componentIds.map((id) => [id, { mean: mean(components[id]), std: std(components[id], true) }]),
        ),
        fracRewardZeroStd: advantageResult.zeroStdGroups / advantageResult.groupStd.length,
        completionLength: { mean: mean(lengths), min: Math.min(...lengths), max: Math.max(...lengths) },
        clippedRatio: rows.filter((r) => r.completion.truncated).length / rows.length,
      },
    };
  }

  private flatten(groups: readonly RolloutGroup[]): PlannedRow[] {
    const g = this.config.grpo.numGenerations;
    if (groups.length === 0) throw new Error('GrpoTrainer.train: no rollout groups');
    const rows: PlannedRow[] = [];
    groups.forEach((group, gi) => {
      if (group.completions.length !== g) {
        throw new Error(
          `GrpoTrainer.train: group ${gi} has ${group.completions.length} completions, numGenerations is ${g}`,
        );
      }
      if (group.promptIds.length === 0) throw new Error(`GrpoTrainer.train: group ${gi} has an empty prompt`);
      group.completions.forEach((completion, ci) => {
        const where = `group ${gi} completion ${ci}`;
        if (completion.completionIds.length === 0) throw new Error(`GrpoTrainer.train: ${where} is empty`);
        const limit = this.config.grpo.maxCompletionLength;
        if (limit !== undefined && completion.completionIds.length > limit) {
          throw new Error(
            `GrpoTrainer.train: ${where} has ${completion.completionIds.length} tokens, maxCompletionLength is ${limit}`,
          );
        }
        if (completion.oldLogProbs && completion.oldLogProbs.length !== completion.completionIds.length) {
          throw new Error(
            `GrpoTrainer.train: ${where} has ${completion.oldLogProbs.length} oldLogProbs for ${completion.completionIds.length} tokens`,
          );
        }
        rows.push({ promptIds: group.promptIds, completion, where });
      });
    });
    const ids = Object.keys(rows[0].completion.rewards).sort().join(',');
    for (const r of rows) {
      if (Object.keys(r.completion.rewards).sort().join(',') !== ids) {
        throw new Error(
          `GrpoTrainer.train: ${r.where} has reward components [${Object.keys(r.completion.rewards).sort()}], expected [${ids}]`,
        );
      }
    }
    const withOld = rows.filter((r) => r.completion.oldLogProbs).length;
    if (withOld !== 0 && withOld !== rows.length)
      throw new Error('GrpoTrainer.train: oldLogProbs given for some completions but not all');
    return rows;
  }

  /** Builds micro-batch k of a plan with its fixed tensors: reference and old log-probs (before any update). */
  prepareMicroBatch(plan: GrpoStepPlan, k: number): PreparedMicroBatch {
    const { padId, maxLength, grpo } = this.config;
    const indices = plan.microBatches[k];
    const slice = indices.map((i) => plan.rows[i]);
    const batch = buildTokenBatch(
      slice.map((r) => ({
        tokens: [...r.promptIds, ...r.completion.completionIds],
        completionStart: r.promptIds.length,
      })),
      padId,
      maxLength,
    );
    const advantageValues = indices.map((i) => plan.advantages[i]);
    let old: tf.Tensor2D | undefined;
    if (slice[0].completion.oldLogProbs) {
      // Completion token j of a row is the target at position promptLength - 1 + j.
      const values = new Float32Array(slice.length * batch.columns);
      slice.forEach((r, row) =>
        (r.completion.oldLogProbs as readonly number[]).forEach((lp, j) => {
          values[row * batch.columns + r.promptIds.length - 1 + j] = lp;
        }),
      );
      old = tf.tensor2d(values, [slice.length, batch.columns]);
    } else if (grpo.numIterations > 1) {
      old = tf.tidy(
        () =>
          this.policy.sequenceLogProbs(batch.inputIds, batch.targetIds, {
            temperature: this.config.temperature,
          }).logProbs,
      );
    }
    const ref =
      grpo.beta > 0 && this.reference
        ? tf.tidy(
            () =>
              (this.reference as ReferencePolicy).sequenceLogProbs(batch.inputIds, batch.targetIds, {
                temperature: this.config.temperature,
              }).logProbs,
          )
        : undefined;
    return { batch, advantages: tf.tensor1d(advantageValues), advantageValues, old, ref };
  }

  /** Loss, gradients and token metrics of one prepared micro-batch (the caller disposes the gradients). */
  microBatchGradients(
    plan: GrpoStepPlan,
    m: PreparedMicroBatch,
  ): GrpoMicroBatchMetrics & { grads: NamedTensors } {
    const grpo = this.config.grpo;
    const weights = this.policy.trainableWeights();
    const kept: tf.Tensor[] = [];
    let ratio: tf.Tensor2D | undefined;
    let kl: tf.Tensor2D | undefined;
    let entropy: tf.Tensor2D | undefined;
    const { value, grads } = namedGradients(weights, () => {
      const forward = this.policy.sequenceLogProbs(m.batch.inputIds, m.batch.targetIds, {
        entropy: true,
        temperature: this.config.temperature,
      });
      const out = grpoLoss(
        {
          logProbs: forward.logProbs,
          oldLogProbs: m.old,
          refLogProbs: m.ref,
          advantages: m.advantages,
          completionMask: m.batch.completionMask,
        },
        {
          lossType: grpo.lossType,
          epsilon: grpo.epsilon,
          epsilonHigh: grpo.epsilonHigh,
          beta: grpo.beta,
          maxCompletionLength: grpo.maxCompletionLength,
          gradientAccumulationSteps: plan.microBatches.length,
          numItemsInBatch: plan.numItemsInBatch,
        },
      );
      ratio = out.ratio;
      kl = out.perTokenKl;
      if (forward.entropy) entropy = tf.keep(forward.entropy);
      return out.loss;
    });
    kept.push(...[ratio, kl, entropy].filter((t): t is tf.Tensor2D => t !== undefined));
    const tokenMetrics = grpoTokenMetrics({
      ratio: (ratio as tf.Tensor2D).dataSync(),
      advantages: m.advantageValues,
      mask: m.batch.maskValues,
      columns: m.batch.columns,
      epsilon: grpo.epsilon,
      epsilonHigh: grpo.epsilonHigh,
      kl: kl?.dataSync(),
      entropy: entropy?.dataSync(),
    });
    kept.forEach((t) => t.dispose());
    const tokens = tokenMetrics.tokens;
    return {
      grads,
      loss: value,
      tokens,
      low: tokenMetrics.clipRatioLow * tokens,
      high: tokenMetrics.clipRatioHigh * tokens,
      region: tokenMetrics.clipRatioRegion * tokens,
      kl: (tokenMetrics.kl ?? 0) * tokens,
      entropy: (tokenMetrics.entropy ?? 0) * tokens,
    };
  }

  /** Clips the accumulated gradients and applies the update at this step's learning rate. */
  applyGradients(accumulator: GradientAccumulator): { learningRate: number; gradNorm: number } {
    const learningRate = this.schedule.learningRate(this.step);
    const gradNorm = applyAccumulated(this.optimizer, accumulator, this.config.maxGradNorm, learningRate);
    return { learningRate, gradNorm };
  }

  /** A step's metrics from its micro-batches' (in micro-batch order) and its update. */
  stepMetrics(
    plan: GrpoStepPlan,
    iteration: number,
    micro: readonly GrpoMicroBatchMetrics[],
    update: { learningRate: number; gradNorm: number },
    stepTimeMs: number,
  ): GrpoStepMetrics {
    return grpoStepMetrics(plan.rewardStats, this.config.grpo.beta, {
      step: this.step,
      iteration,
      micro,
      ...update,
      stepTimeMs,
    });
  }

  getState(): TrainerState {
    // GRPO consumes no randomness here (sampling happens on the rollout side, with its own seeds).
    return { step: this.step, optimizer: this.optimizer.getState() };
  }

  setState(state: TrainerState): void {
    this.optimizer.setState(state.optimizer);
  }

  dispose(): void {
    this.optimizer.dispose();
  }
}

/** A GRPO step's metrics: the batch's reward statistics, its micro-batches' sums (in order) and its update. */
export function grpoStepMetrics(
  rewardStats: GrpoStepPlan['rewardStats'],
  beta: number,
  step: {
    step: number;
    iteration: number;
    micro: readonly GrpoMicroBatchMetrics[];
    learningRate: number;
    gradNorm: number;
    stepTimeMs: number;
  },
): GrpoStepMetrics {
  let loss = 0;
  let tokens = 0;
  const sums = { low: 0, high: 0, region: 0, kl: 0, entropy: 0 };
  for (const m of step.micro) {
    loss += m.loss;
    tokens += m.tokens;
    sums.low += m.low;
    sums.high += m.high;
    sums.region += m.region;
    sums.kl += m.kl;
    sums.entropy += m.entropy;
  }
  const per = (x: number) => x / Math.max(tokens, 1);
  return {
    ...rewardStats,
    step: step.step,
    iteration: step.iteration,
    loss,
    kl: beta > 0 ? per(sums.kl) : undefined,
    clipRatio: { low: per(sums.low), high: per(sums.high), region: per(sums.region) },
    entropy: per(sums.entropy),
    gradNorm: step.gradNorm,
    learningRate: step.learningRate,
    stepTimeMs: step.stepTimeMs,
  };
}
