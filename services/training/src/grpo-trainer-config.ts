import type { ExperimentConfig } from '@recon/experiment';
import type { GrpoTrainerConfigInput } from '@recon/policy';

/**
 * The GRPO trainer's settings from a run's config. A step's promptsPerStep x numGenerations completions are
 * cut into `grpo.gradientAccumulation` equal micro-batches whose gradients are summed in order before one
 * optimizer step (the config refuses a gradientAccumulation that does not divide them).
 */
export function grpoTrainerConfig(
  config: Pick<ExperimentConfig, 'grpo' | 'rewards'>,
  model: { padId: number; context: number },
): GrpoTrainerConfigInput {
  const grpo = config.grpo;
  if (!grpo) throw new Error('grpoTrainerConfig: the config has no grpo section');
  return {
    grpo: {
      numGenerations: grpo.numGenerations,
      beta: grpo.beta,
      epsilon: grpo.epsilon,
      epsilonHigh: grpo.epsilonHigh,
      lossType: grpo.lossType,
      scaleRewards: grpo.scaleRewards,
      numIterations: grpo.numIterations,
      maxCompletionLength: grpo.maxCompletionTokens,
      rewardWeights: Object.fromEntries(config.rewards.map((r) => [r.id, r.weight])),
    },
    microBatchSize: Math.ceil((grpo.promptsPerStep * grpo.numGenerations) / grpo.gradientAccumulation),
    maxGradNorm: grpo.maxGradNorm,
    padId: model.padId,
    maxLength: model.context,
    temperature: grpo.temperature > 0 ? grpo.temperature : 1,
    partition: grpo.partition,
    schedule: {
      type: grpo.schedule,
      learningRate: grpo.learningRate,
      totalSteps: Math.max(grpo.steps, 1),
      warmupRatio: grpo.warmupRatio,
    },
    optimizer: { beta1: grpo.adamBetas[0], beta2: grpo.adamBetas[1], weightDecay: grpo.weightDecay },
  };
}
