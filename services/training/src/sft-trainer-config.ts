import type { ExperimentConfig } from '@recon/experiment';
import type { SftTrainerConfigInput } from '@recon/policy';

/** The SFT trainer's settings from a run's config (the same for the built-in pool and pretrained policies). */
export function sftTrainerConfig(
  sft: NonNullable<ExperimentConfig['sft']>,
  model: { padId: number; context: number; dataSeed: number },
): SftTrainerConfigInput {
  return {
    batchSize: sft.batchSize,
    gradientAccumulationSteps: sft.gradientAccumulation,
    maxGradNorm: sft.maxGradNorm,
    padId: model.padId,
    maxLength: model.context,
    seed: model.dataSeed,
    lengthGroupWindow: sft.lengthGroupWindow,
    partition: sft.partition,
    schedule: {
      type: sft.schedule,
      learningRate: sft.learningRate,
      totalSteps: Math.max(sft.steps, 1),
      warmupSteps: sft.warmupSteps,
    },
    optimizer: { weightDecay: sft.weightDecay },
  };
}
