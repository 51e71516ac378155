import * as tf from '@tensorflow/tfjs-core';
import { ForwardOptions, PolicyForward, ReferencePolicy, TrainablePolicy } from './policy';

/** A policy whose LoRA adapters can be switched off (the base model then runs alone). */
export interface AdapterSwitch {
  setAdaptersEnabled(enabled: boolean): void;
  adaptersEnabled(): boolean;
}

/**
 * The paper's reference policy for a LoRA run: the same model with its adapters off. No copy of the
 * base weights is needed; adapters are restored even when the forward pass throws.
 */
export function adaptersOffReference(policy: TrainablePolicy & AdapterSwitch): ReferencePolicy {
  return {
    sequenceLogProbs(inputIds: tf.Tensor2D, targetIds: tf.Tensor2D, options?: ForwardOptions): PolicyForward {
      const previous = policy.adaptersEnabled();
      policy.setAdaptersEnabled(false);
      try {
        return {
          logProbs: policy.sequenceLogProbs(inputIds, targetIds, { temperature: options?.temperature })
            .logProbs,
        };
      } finally {
        policy.setAdaptersEnabled(previous);
      }
    },
  };
}

/** Weights whose names mark them as LoRA adapters (what the optimiser updates in a LoRA run). */
export function adapterWeights(
  named: ReadonlyMap<string, tf.Variable>,
  isAdapter: (name: string) => boolean = (name) => /(^|[._])lora[._]/.test(name),
): Map<string, tf.Variable> {
  const adapters = new Map([...named].filter(([name]) => isAdapter(name)));
  if (adapters.size === 0) throw new Error('adapterWeights: the model has no LoRA adapter weights');
  return adapters;
}
