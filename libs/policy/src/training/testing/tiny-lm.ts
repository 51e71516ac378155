import * as tf from '@tensorflow/tfjs-core';
import { adapterWeights, AdapterSwitch } from '../lora';
import { ForwardOptions, PolicyForward, policyForwardFromLogits, TrainablePolicy } from '../policy';
import { Rng } from '../rng';

export interface TinyLmConfig {
  vocab: number;
  dModel: number;
  seed: number;
  /** LoRA rank on the output projection; 0 = full fine-tuning. */
  loraRank?: number;
  loraAlpha?: number;
}

/**
 * A small but real language model for the trainer tests while the transformer is built elsewhere:
 * next token from the current token through embedding -> tanh layer -> output projection (+ LoRA).
 */
export class TinyLm implements TrainablePolicy, AdapterSwitch {
  private readonly weights = new Map<string, tf.Variable>();
  private adapters = true;

  constructor(readonly config: TinyLmConfig) {
    const rng = new Rng(config.seed);
    const init = (name: string, shape: number[], scale: number) => {
      const size = shape.reduce((a, b) => a * b, 1);
      const values = Float32Array.from({ length: size }, () => (rng.next() * 2 - 1) * scale);
      this.weights.set(name, tf.variable(tf.tensor(values, shape), true));
    };
    const { vocab, dModel } = config;
    init('embed.weight', [vocab, dModel], 0.5);
    init('hidden.weight', [dModel, dModel], 1 / Math.sqrt(dModel));
    init('hidden.bias', [dModel], 0);
    init('lm_head.weight', [dModel, vocab], 1 / Math.sqrt(dModel));
    if (config.loraRank) {
      init('lm_head.lora_a', [dModel, config.loraRank], 1 / Math.sqrt(dModel));
      init('lm_head.lora_b', [config.loraRank, vocab], 0);
    }
  }

  private logits(inputIds: tf.Tensor2D, adapters: boolean): tf.Tensor3D {
    const w = (name: string) => this.weights.get(name) as tf.Variable;
    const [b, t] = inputIds.shape;
    const x = tf.gather(w('embed.weight'), tf.reshape(inputIds, [-1]));
    const h = tf.tanh(tf.add(tf.matMul(x, w('hidden.weight')), w('hidden.bias')));
    let out = tf.matMul(h, w('lm_head.weight'));
    if (this.config.loraRank && adapters) {
      const scale = (this.config.loraAlpha ?? this.config.loraRank) / this.config.loraRank;
      out = tf.add(out, tf.mul(tf.matMul(tf.matMul(h, w('lm_head.lora_a')), w('lm_head.lora_b')), scale));
    }
    return tf.reshape(out, [b, t, this.config.vocab]);
  }

  sequenceLogProbs(inputIds: tf.Tensor2D, targetIds: tf.Tensor2D, options?: ForwardOptions): PolicyForward {
    return policyForwardFromLogits(this.logits(inputIds, this.adapters), targetIds, options);
  }

  setAdaptersEnabled(enabled: boolean): void {
    this.adapters = enabled;
  }

  adaptersEnabled(): boolean {
    return this.adapters;
  }

  trainableWeights(): ReadonlyMap<string, tf.Variable> {
    return this.config.loraRank ? adapterWeights(this.weights) : this.weights;
  }

  namedWeights(): ReadonlyMap<string, tf.Variable> {
    return this.weights;
  }

  dispose(): void {
    for (const v of this.weights.values()) v.dispose();
  }
}
