import { ensureGradientsRegistered } from './tfjs-gradients';

ensureGradientsRegistered();
import * as tf from '@tensorflow/tfjs-core';
import { assertSameShape } from './sft-loss';
import { detach } from './detach';

export type GrpoLossType = 'grpo' | 'bnpo' | 'dr_grpo' | 'dapo';

export interface GrpoLossInputs {
  /** Current policy's log-probs of the sampled tokens [B,T]; differentiable. */
  logProbs: tf.Tensor2D;
  /** Policy that generated the rollouts [B,T]; absent = current policy detached (ratio 1). */
  oldLogProbs?: tf.Tensor2D;
  /** Frozen reference policy [B,T]; required when beta > 0. */
  refLogProbs?: tf.Tensor2D;
  /** One advantage per row [B]. */
  advantages: tf.Tensor1D;
  /** 1 on completion tokens, 0 on prompt and padding [B,T]. */
  completionMask: tf.Tensor2D;
}

export interface GrpoLossOptions {
  lossType: GrpoLossType;
  epsilon: number;
  epsilonHigh?: number;
  beta: number;
  maxCompletionLength?: number;
  /** grpo, bnpo and dr_grpo divide each micro-batch loss by this (TRL: current_gradient_accumulation_steps). */
  gradientAccumulationSteps?: number;
  /** dapo's normaliser: completion tokens in the whole accumulated batch (default: this micro-batch's). */
  numItemsInBatch?: number;
}

export interface GrpoLossOutput {
  loss: tf.Scalar;
  /** pi / pi_old per token [B,T]. */
  ratio: tf.Tensor2D;
  /** k3 estimate of KL(pi || pi_ref) per token [B,T], when beta > 0. */
  perTokenKl?: tf.Tensor2D;
}

/**
 * TRL GRPOTrainer._compute_loss (token-level importance sampling):
 *   ratio = exp(logp - old); loss_t = -min(ratio*A, clip(ratio, 1-eps, 1+eps_high)*A) + beta*k3
 * aggregated per `lossType`:
 *   grpo    mean over rows of (sum_t loss*m / max(sum_t m, 1)), / gradientAccumulationSteps
 *   bnpo    sum loss*m / max(sum m, 1), / gradientAccumulationSteps
 *   dr_grpo sum loss*m / (rows * maxCompletionLength), / gradientAccumulationSteps
 *   dapo    sum loss*m / numItemsInBatch
 */
export function grpoLoss(inputs: GrpoLossInputs, options: GrpoLossOptions): GrpoLossOutput {
  const { logProbs, completionMask, advantages } = inputs;
  assertSameShape(logProbs, completionMask, 'grpoLoss', 'logProbs', 'completionMask');
  if (inputs.oldLogProbs)
    assertSameShape(logProbs, inputs.oldLogProbs, 'grpoLoss', 'logProbs', 'oldLogProbs');
  if (inputs.refLogProbs)
    assertSameShape(logProbs, inputs.refLogProbs, 'grpoLoss', 'logProbs', 'refLogProbs');
  if (advantages.shape.length !== 1 || advantages.shape[0] !== logProbs.shape[0]) {
    throw new Error(
      `grpoLoss: advantages shape [${advantages.shape}] must be [${logProbs.shape[0]}] (one per row)`,
    );
  }
  if (options.beta > 0 && !inputs.refLogProbs) throw new Error('grpoLoss: beta > 0 needs refLogProbs');
  if (options.lossType === 'dr_grpo' && !options.maxCompletionLength) {
    throw new Error('grpoLoss: lossType dr_grpo needs maxCompletionLength');
  }
  const accumulation = options.gradientAccumulationSteps ?? 1;
  const epsLow = options.epsilon;
  const epsHigh = options.epsilonHigh ?? options.epsilon;

  let ratioOut: tf.Tensor2D | undefined;
  let klOut: tf.Tensor2D | undefined;
  const loss = tf.tidy(() => {
    const mask = tf.cast(completionMask, 'float32');
    const old = inputs.oldLogProbs ?? detach(logProbs);
    const ratio = tf.exp(tf.sub(logProbs, old));
    const clipped = tf.clipByValue(ratio, 1 - epsLow, 1 + epsHigh);
    const adv = tf.expandDims(advantages, 1);
    let perToken: tf.Tensor = tf.neg(tf.minimum(tf.mul(ratio, adv), tf.mul(clipped, adv)));
    if (options.beta > 0 && inputs.refLogProbs) {
      const delta = tf.sub(inputs.refLogProbs, logProbs);
      const kl = tf.sub(tf.sub(tf.exp(delta), delta), 1);
      perToken = tf.add(perToken, tf.mul(kl, options.beta));
      klOut = tf.keep(kl as tf.Tensor2D);
    }
    ratioOut = tf.keep(ratio as tf.Tensor2D);
    const masked = tf.mul(perToken, mask);
    const rows = logProbs.shape[0];
    switch (options.lossType) {
      case 'grpo': {
        const perRow = tf.div(tf.sum(masked, 1), tf.maximum(tf.sum(mask, 1), 1));
        return tf.div(tf.mean(perRow), accumulation) as tf.Scalar;
      }
      case 'bnpo':
        return tf.div(tf.div(tf.sum(masked), tf.maximum(tf.sum(mask), 1)), accumulation) as tf.Scalar;
      case 'dr_grpo':
        return tf.div(
          tf.sum(masked),
          rows * (options.maxCompletionLength as number) * accumulation,
        ) as tf.Scalar;
      case 'dapo': {
        const items = options.numItemsInBatch ?? Math.max(tf.sum(mask).dataSync()[0], 1);
        if (!(items > 0)) throw new Error(`grpoLoss: numItemsInBatch must be > 0, got ${items}`);
        return tf.div(tf.sum(masked), items) as tf.Scalar;
      }
      default:
        throw new Error(`grpoLoss: unknown lossType "${String(options.lossType)}"`);
    }
  });
  return { loss, ratio: ratioOut as unknown as tf.Tensor2D, perTokenKl: klOut };
}

export interface GrpoTokenMetrics {
  /** Completion tokens counted. */
  tokens: number;
  clipRatioLow: number;
  clipRatioHigh: number;
  clipRatioRegion: number;
  kl?: number;
  entropy?: number;
}

/**
 * The token-level metrics TRL logs: fractions of completion tokens clipped at the low side (ratio < 1-eps
 * with A < 0), at the high side (ratio > 1+eps_high with A > 0) and either; masked means of kl and entropy.
 * Inputs are row-major [B*T] arrays.
 */
export function grpoTokenMetrics(args: {
  ratio: ArrayLike<number>;
  advantages: ArrayLike<number>;
  mask: ArrayLike<number>;
  columns: number;
  epsilon: number;
  epsilonHigh?: number;
  kl?: ArrayLike<number>;
  entropy?: ArrayLike<number>;
}): GrpoTokenMetrics {
  const epsHigh = args.epsilonHigh ?? args.epsilon;
  let tokens = 0;
  let low = 0;
  let high = 0;
  let region = 0;
  let kl = 0;
  let entropy = 0;
  for (let i = 0; i < args.mask.length; i++) {
    if (!args.mask[i]) continue;
    const a = args.advantages[Math.floor(i / args.columns)];
    const r = args.ratio[i];
    const isLow = r < 1 - args.epsilon && a < 0;
    const isHigh = r > 1 + epsHigh && a > 0;
    tokens += 1;
    low += isLow ? 1 : 0;
    high += isHigh ? 1 : 0;
    region += isLow || isHigh ? 1 : 0;
    if (args.kl) kl += args.kl[i];
    if (args.entropy) entropy += args.entropy[i];
  }
  const denominator = Math.max(tokens, 1);
  return {
    tokens,
    clipRatioLow: low / denominator,
    clipRatioHigh: high / denominator,
    clipRatioRegion: region / denominator,
    kl: args.kl ? kl / denominator : undefined,
    entropy: args.entropy ? entropy / denominator : undefined,
  };
}
