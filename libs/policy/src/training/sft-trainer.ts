import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import { buildTokenBatch, disposeBatch, namedGradients, TokenSequence } from './batching';
import { adamWSchema, lrScheduleSchema, parseConfig } from './config';
import { DataCursor } from './data-cursor';
import { AdamW, applyAccumulated, disposeAll, GradientAccumulator } from './optimizer';
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
    this.cursor = new DataCursor(examples.length, this.config.seed);
  }

  get step(): number {
    return this.optimizer.step;
  }

  /** One optimiser step over gradientAccumulationSteps micro-batches. */
  trainStep(): SftStepMetrics {
    const started = performance.now();
    const { batchSize, gradientAccumulationSteps, padId, maxLength } = this.config;
    const microBatches = Array.from({ length: gradientAccumulationSteps }, () =>
      this.cursor.take(batchSize).map((i) => this.examples[i]),
    );
    const batches = microBatches.map((seqs) => buildTokenBatch(seqs, padId, maxLength));
    const tokens = batches.reduce((n, b) => n + b.completionTokens, 0);
    if (tokens === 0) throw new Error(`SftTrainer: step ${this.step} has no completion tokens`);
    const weights = this.policy.trainableWeights();
    const accumulator = new GradientAccumulator();
    let loss = 0;
    for (const batch of batches) {
      // Normalising by the whole step's token count makes the summed gradient that of the full-batch mean.
      const { value, grads } = namedGradients(weights, () =>
        sftLossFromLogProbs(
          this.policy.sequenceLogProbs(batch.inputIds, batch.targetIds).logProbs,
          batch.completionMask,
          tokens,
        ),
      );
      loss += value;
      accumulator.add(grads);
      disposeAll(grads);
      disposeBatch(batch);
    }
    const learningRate = this.schedule.learningRate(this.step);
    const norm = applyAccumulated(this.optimizer, accumulator, this.config.maxGradNorm, learningRate);
    return {
      step: this.step,
      loss,
      learningRate,
      gradNorm: norm,
      tokens,
      sequences: batchSize * gradientAccumulationSteps,
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
    this.cursor = DataCursor.restore(this.examples.length, state.dataPosition, state.rng);
  }

  dispose(): void {
    this.optimizer.dispose();
  }
}
