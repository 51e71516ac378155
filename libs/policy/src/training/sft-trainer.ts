import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import { buildTokenBatch, disposeBatch, namedGradients, TokenSequence } from './batching';
import { adamWSchema, lrScheduleSchema, parseConfig } from './config';
import { DataCursor, type LengthGrouping } from './data-cursor';
import { AdamW, applyAccumulated, disposeAll, GradientAccumulator, NamedTensors } from './optimizer';
import { batchPartitionSchema, partitionRows } from './partition';
import { TrainablePolicy } from './policy';
import { LrSchedule } from './schedule';
import { sftLossFromLogProbs } from './sft-loss';
import { TrainerState } from './trainer-state';

export const sftTrainerConfigSchema = z.object({
  /** Sequences per micro-batch. */
  batchSize: z.number().int().positive(),
  gradientAccumulationSteps: z.number().int().positive().default(1),
  maxGradNorm: z.number().positive().optional(),
  padId: z.number().int().min(0),
  /** Longest input the model accepts (its context); longer sequences are an error. */
  maxLength: z.number().int().positive().optional(),
  seed: z.number().int(),
  /**
   * Group batches by length over windows of this many steps (groupOrderByLength); absent: plain shuffled
   * batches, as every run recorded before the option.
   */
  lengthGroupWindow: z.number().int().positive().optional(),
  /** How each micro-batch is cut into its `split` parts (partitionRows). */
  partition: batchPartitionSchema.default('contiguous'),
  schedule: lrScheduleSchema,
  optimizer: adamWSchema.default(adamWSchema.parse({})),
});
export type SftTrainerConfig = z.output<typeof sftTrainerConfigSchema>;
export type SftTrainerConfigInput = z.input<typeof sftTrainerConfigSchema>;

export interface SftStepMetrics {
  step: number;
  /** Mean cross-entropy per completion token over the accumulated batch (before the update). */
  loss: number;
  learningRate: number;
  /** Global gradient norm before clipping. */
  gradNorm: number;
  /** Completion tokens that carried loss. */
  tokens: number;
  sequences: number;
  epoch: number;
  stepTimeMs: number;
}

/** A step's data: micro-batches in the order their gradients are summed, and its completion-token count. */
export interface SftStepPlan {
  microBatches: TokenSequence[][];
  tokens: number;
}

/** Completion-only SFT: shuffled batches, gradient accumulation, global-norm clipping, AdamW with schedule. */
export class SftTrainer {
  readonly config: SftTrainerConfig;
  private readonly optimizer: AdamW;
  private readonly schedule: LrSchedule;
  private cursor: DataCursor;

  constructor(
    private readonly policy: TrainablePolicy,
    private readonly examples: readonly TokenSequence[],
    config: SftTrainerConfigInput,
  ) {
    this.config = parseConfig(sftTrainerConfigSchema, config, 'SFT trainer config');
    this.optimizer = new AdamW(policy.trainableWeights(), this.config.optimizer);
    this.schedule = new LrSchedule(this.config.schedule);
    this.cursor = new DataCursor(examples.length, this.config.seed, this.lengthGrouping());
  }

  private lengthGrouping(): LengthGrouping | undefined {
    const { lengthGroupWindow, batchSize, gradientAccumulationSteps } = this.config;
    if (lengthGroupWindow === undefined) return undefined;
    return {
      lengths: this.examples.map((e) => e.tokens.length),
      batchSize: batchSize * gradientAccumulationSteps,
      windowBatches: lengthGroupWindow,
    };
  }

  get step(): number {
    return this.optimizer.step;
  }

  /** One optimiser step over gradientAccumulationSteps micro-batches (each cut into `split` parts). */
  trainStep(split = 1): SftStepMetrics {
    const started = performance.now();
    const plan = this.planStep(split);
    const accumulator = new GradientAccumulator();
    let loss = 0;
    for (const sequences of plan.microBatches) {
      const { value, grads } = this.microBatchGradients(sequences, plan.tokens);
      loss += value;
      accumulator.add(grads);
      disposeAll(grads);
    }
    const update = this.applyGradients(accumulator);
    return this.stepMetrics(plan, loss, update, started);
  }

  /**
   * Takes the next step's sequences from the data and cuts each gradient-accumulation micro-batch into `split`
   * parts (config.partition). The step's gradient is the sum of the parts' gradients in this order, wherever
   * each is computed (data-parallel replicas compute different parts of the same plan).
   */
  planStep(split = 1): SftStepPlan {
    const { batchSize, gradientAccumulationSteps } = this.config;
    const microBatches: TokenSequence[][] = [];
    for (let a = 0; a < gradientAccumulationSteps; a++) {
      const sequences = this.cursor.take(batchSize).map((i) => this.examples[i]);
      const lengths = sequences.map((s) => s.tokens.length);
      for (const part of partitionRows(lengths, split, this.config.partition))
        microBatches.push(part.map((i) => sequences[i]));
    }
    // As buildTokenBatch counts them: targets 1..n-1 from completionStart on.
    const tokens = microBatches
      .flat()
      .reduce((n, s) => n + Math.max(0, s.tokens.length - s.completionStart), 0);
    if (tokens === 0) throw new Error(`SftTrainer: step ${this.step + 1} has no completion tokens`);
    return { microBatches, tokens };
  }

  /** Loss and gradients of one micro-batch, normalised by the whole step's completion-token count. */
  microBatchGradients(
    sequences: readonly TokenSequence[],
    stepTokens: number,
  ): { value: number; grads: NamedTensors } {
    const { padId, maxLength } = this.config;
    const batch = buildTokenBatch(sequences, padId, maxLength);
    try {
      // Normalising by the whole step's token count makes the summed gradient that of the full-batch mean.
      return namedGradients(this.policy.trainableWeights(), () =>
        sftLossFromLogProbs(
          this.policy.sequenceLogProbs(batch.inputIds, batch.targetIds).logProbs,
          batch.completionMask,
          stepTokens,
        ),
      );
    } finally {
      disposeBatch(batch);
    }
  }

  /** Clips the accumulated gradients and applies the update at this step's learning rate. */
  applyGradients(accumulator: GradientAccumulator): { learningRate: number; gradNorm: number } {
    const learningRate = this.schedule.learningRate(this.step);
    const gradNorm = applyAccumulated(this.optimizer, accumulator, this.config.maxGradNorm, learningRate);
    return { learningRate, gradNorm };
  }

  stepMetrics(
    plan: SftStepPlan,
    loss: number,
    update: { learningRate: number; gradNorm: number },
    started: number,
  ): SftStepMetrics {
    return {
      step: this.step,
      loss,
      learningRate: update.learningRate,
      gradNorm: update.gradNorm,
      tokens: plan.tokens,
      sequences: plan.microBatches.reduce((n, b) => n + b.length, 0),
      epoch: this.cursor.getPosition().epoch,
      stepTimeMs: performance.now() - started,
    };
  }

  /** Mean loss per completion token over `sequences`, without touching weights or data position. */
  evaluate(sequences: readonly TokenSequence[], batchSize = this.config.batchSize): number {
    let sum = 0;
    let tokens = 0;
    for (let i = 0; i < sequences.length; i += batchSize) {
      const batch = buildTokenBatch(
        sequences.slice(i, i + batchSize),
        this.config.padId,
        this.config.maxLength,
      );
      sum += tf.tidy(
        () =>
          sftLossFromLogProbs(
            this.policy.sequenceLogProbs(batch.inputIds, batch.targetIds).logProbs,
            batch.completionMask,
            1,
          ).dataSync()[0],
      );
      tokens += batch.completionTokens;
      disposeBatch(batch);
    }
    if (tokens === 0) throw new Error('SftTrainer.evaluate: no completion tokens');
    return sum / tokens;
  }

  getState(): TrainerState {
    return {
      step: this.step,
      optimizer: this.optimizer.getState(),
      rng: this.cursor.getRngState(),
      dataPosition: this.cursor.getPosition(),
    };
  }

  /** Continue from a checkpointed state (weights are restored separately, into the policy). */
  setState(state: TrainerState): void {
    this.optimizer.setState(state.optimizer);
    if (!state.dataPosition || !state.rng)
      throw new Error('SftTrainer.setState: checkpoint has no data position or RNG state');
    this.cursor = DataCursor.restore(
      this.examples.length,
      state.dataPosition,
      state.rng,
      this.lengthGrouping(),
    );
  }

  dispose(): void {
    this.optimizer.dispose();
  }
}
