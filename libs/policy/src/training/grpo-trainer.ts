import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import { combineRewards, groupAdvantages, mean, std } from './advantages';
import { buildTokenBatch, disposeBatch, namedGradients, TokenBatch } from './batching';
import { adamWSchema, grpoConfigSchema, lrScheduleSchema, parseConfig } from './config';
import { grpoLoss, grpoTokenMetrics } from './grpo-loss';
import { AdamW, applyAccumulated, disposeAll, GradientAccumulator } from './optimizer';
import { ReferencePolicy, TrainablePolicy } from './policy';
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

interface PreparedMicroBatch {
  batch: TokenBatch;
  advantages: tf.Tensor1D;
  advantageValues: number[];
  old?: tf.Tensor2D;
  ref?: tf.Tensor2D;
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
  train(groups: readonly RolloutGroup[]): GrpoStepMetrics[] {
    const started = performance.now();
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
    const micro = this.prepare(rows, advantageResult.advantages);
    const numItemsInBatch = micro.reduce((n, m) => n + m.batch.completionTokens, 0);
    const rewardStats = {
      reward: mean(advantageResult.rewards),
      rewardStd: mean(advantageResult.groupStd),
      rewards: Object.fromEntries(
        componentIds.map((id) => [id, { mean: mean(components[id]), std: std(components[id], true) }]),
      ),
      fracRewardZeroStd: advantageResult.zeroStdGroups / advantageResult.groupStd.length,
      completionLength: { mean: mean(lengths), min: Math.min(...lengths), max: Math.max(...lengths) },
      clippedRatio: rows.filter((r) => r.completion.truncated).length / rows.length,
    };
    const metrics: GrpoStepMetrics[] = [];
    try {
      for (let iteration = 0; iteration < grpo.numIterations; iteration++) {
        // The first step's time includes preparing the batch (reference and old log-probs).
        const stepStarted = iteration === 0 ? started : performance.now();
        const update = this.update(micro, numItemsInBatch);
        metrics.push({ ...rewardStats, ...update, iteration, stepTimeMs: performance.now() - stepStarted });
      }
    } finally {
      for (const m of micro) {
        disposeBatch(m.batch);
        m.advantages.dispose();
        m.old?.dispose();
        m.ref?.dispose();
      }
    }
    return metrics;
  }

  private flatten(groups: readonly RolloutGroup[]) {
    const g = this.config.grpo.numGenerations;
    if (groups.length === 0) throw new Error('GrpoTrainer.train: no rollout groups');
    const rows: { promptIds: readonly number[]; completion: Completion; where: string }[] = [];
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

  /** Builds micro-batches and computes the fixed per-batch tensors: reference and old log-probs. */
  private prepare(rows: ReturnType<GrpoTrainer['flatten']>, advantages: number[]): PreparedMicroBatch[] {
    const { microBatchSize, padId, maxLength, grpo } = this.config;
    const out: PreparedMicroBatch[] = [];
    for (let start = 0; start < rows.length; start += microBatchSize) {
      const slice = rows.slice(start, start + microBatchSize);
      const batch = buildTokenBatch(
        slice.map((r) => ({
          tokens: [...r.promptIds, ...r.completion.completionIds],
          completionStart: r.promptIds.length,
        })),
        padId,
        maxLength,
      );
      const advantageValues = advantages.slice(start, start + microBatchSize);
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
      out.push({ batch, advantages: tf.tensor1d(advantageValues), advantageValues, old, ref });
    }
    return out;
  }

  private update(micro: PreparedMicroBatch[], numItemsInBatch: number) {
    const grpo = this.config.grpo;
    const weights = this.policy.trainableWeights();
    const accumulator = new GradientAccumulator();
    let loss = 0;
    let tokens = 0;
    const sums = { low: 0, high: 0, region: 0, kl: 0, entropy: 0 };
    for (const m of micro) {
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
            gradientAccumulationSteps: micro.length,
            numItemsInBatch,
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
      loss += value;
      tokens += tokenMetrics.tokens;
      sums.low += tokenMetrics.clipRatioLow * tokenMetrics.tokens;
      sums.high += tokenMetrics.clipRatioHigh * tokenMetrics.tokens;
      sums.region += tokenMetrics.clipRatioRegion * tokenMetrics.tokens;
      sums.kl += (tokenMetrics.kl ?? 0) * tokenMetrics.tokens;
      sums.entropy += (tokenMetrics.entropy ?? 0) * tokenMetrics.tokens;
      accumulator.add(grads);
      disposeAll(grads);
    }
    const learningRate = this.schedule.learningRate(this.step);
    const norm = applyAccumulated(this.optimizer, accumulator, this.config.maxGradNorm, learningRate);
    const per = (x: number) => x / Math.max(tokens, 1);
    return {
      step: this.step,
      loss,
      kl: grpo.beta > 0 ? per(sums.kl) : undefined,
      clipRatio: { low: per(sums.low), high: per(sums.high), region: per(sums.region) },
      entropy: per(sums.entropy),
      gradNorm: norm,
      learningRate,
    };
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
