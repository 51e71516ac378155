import * as tf from '@tensorflow/tfjs-core';
import { entropyFromLogits, tokenLogProbsFromLogits } from './sft-loss';

export interface ForwardOptions {
  /** Also return the per-position entropy. */
  entropy?: boolean;
  /** Divide logits by this before the softmax (TRL scores GRPO log-probs at the sampling temperature). */
  temperature?: number;
}

export interface PolicyForward {
  /** log p(target_t | input_<=t) [B,T]; differentiable w.r.t. the trainable weights. */
  logProbs: tf.Tensor2D;
  /** Entropy of the predictive distribution at each position [B,T], when asked for. */
  entropy?: tf.Tensor2D;
}

/** A policy's forward pass from its raw next-token logits [B,T,V] for targets [B,T]. */
export function policyForwardFromLogits(
  raw: tf.Tensor3D,
  targetIds: tf.Tensor2D,
  options?: ForwardOptions,
): PolicyForward {
  const logits =
    options?.temperature && options.temperature !== 1
      ? (tf.div(raw, options.temperature) as tf.Tensor3D)
      : raw;
  return {
    logProbs: tokenLogProbsFromLogits(logits, targetIds),
    entropy: options?.entropy ? entropyFromLogits(logits) : undefined,
  };
}

/**
 * What the trainers need from a policy model. The transformer in libs/policy/src/model provides it;
 * `trainableWeights` holds only the LoRA adapters when LoRA is on.
 */
export interface TrainablePolicy {
  sequenceLogProbs(inputIds: tf.Tensor2D, targetIds: tf.Tensor2D, options?: ForwardOptions): PolicyForward;
  /** Weights the optimiser updates, by stable name. */
  trainableWeights(): ReadonlyMap<string, tf.Variable>;
  /** Every weight (frozen base included), by stable name: what a checkpoint stores. */
  namedWeights(): ReadonlyMap<string, tf.Variable>;
}

/**
 * The frozen policy the KL term is measured against: the same model with LoRA adapters switched off
 * (as the paper ran it) or a frozen copy of the starting weights when LoRA is not used.
 */
export interface ReferencePolicy {
  sequenceLogProbs(inputIds: tf.Tensor2D, targetIds: tf.Tensor2D, options?: ForwardOptions): PolicyForward;
}
