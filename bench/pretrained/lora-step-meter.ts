import * as tf from '@tensorflow/tfjs-core';
import { SftTrainer } from '@recon/policy';
import { loadPretrained, type Projection } from '@recon/pretrained';
import { meterTensorMemory } from './process-memory';

/** What one LoRA SFT step of `rows` x `length` random tokens holds (bytes of tensor data on the backend). */
export interface LoraStepMemory {
  /** Held before the metered step: weights, adapters and AdamW's moments (made by a first, unmetered step). */
  held: number;
  /** The most the metered step adds at once, above `held` (meterTensorMemory). */
  peak: number;
}

/**
 * Loads the checkpoint in `dir` with the given adapters, takes one SFT step so AdamW's moments
 * exist, then meters a second step on the same random tokens (ids 4 to vocab - 1).
 */
export function meterLoraStep(
  dir: string,
  lora: { rank: number; alpha: number; targets: readonly Projection[] },
  step: { rows: number; length: number; vocab: number },
): LoraStepMemory {
  const { model } = loadPretrained(dir, {
    lora: { ...lora, targets: [...lora.targets] },
    seed: 1,
  });
  let x = 17;
  const sequences = Array.from({ length: step.rows }, () => ({
    tokens: Array.from(
      { length: step.length + 1 },
      () => 4 + ((x = (x * 1103515245 + 12345) % 2147483648) % (step.vocab - 4)),
    ),
    completionStart: 1,
  }));
  const trainer = new SftTrainer(model, sequences, {
    batchSize: step.rows,
    padId: 0,
    seed: 1,
    schedule: { type: 'constant', learningRate: 1e-3, totalSteps: 4 },
  });
  try {
    trainer.trainStep();
    const held = tf.memory().numBytes;
    const meter = meterTensorMemory();
    try {
      trainer.trainStep();
    } finally {
      meter.stop();
    }
    return { held, peak: meter.peak() };
  } finally {
    trainer.dispose();
    model.dispose();
  }
}
