import * as tf from '@tensorflow/tfjs-core';
import { generate, SftTrainer } from '@recon/policy';
import { loadPretrained, type PretrainedCausalLM } from '@recon/pretrained';
import { meterTensorMemory, MIB, peakRssMb, resetPeakRss, wasmHeapMb } from './process-memory';
import type { LoraShape } from './lora-memory';

/** What one bench run feeds both sides: the same token ids, shapes and LoRA settings. */
export interface Workload {
  lora: LoraShape & { alpha: number };
  checkIds: number[][];
  forward: { ids: number[][]; repeats: number };
  generate: { prompts: number[][][]; tokens: number };
  train: { sequences: number[][]; steps: number };
}

export interface StageMemory {
  /** VmHWM during the stage (since the reset before it; cumulative where resetting is refused), MiB. */
  peakRssMb: number;
  /** The wasm heap after the stage (its high-water mark), MiB. */
  wasmHeapMb: number | null;
  /** The most tensor data held at once during the stage (meterTensorMemory), MiB. */
  tensorPeakMb: number;
}

export interface OurResult {
  loadSeconds: number;
  /** Logits of workload.checkIds, to compare with PyTorch's. */
  checkLogits: Float32Array;
  forwardTokensPerSecond?: number;
  generateTokensPerSecond: Record<string, number>;
  trainTokensPerSecond?: number;
  firstLoss?: number;
  memory: Record<string, StageMemory>;
}

function stage(memory: Record<string, StageMemory>, name: string, run: () => void): void {
  resetPeakRss();
  const before = tf.memory().numBytes;
  const meter = meterTensorMemory();
  try {
    run();
  } finally {
    meter.stop();
  }
  memory[name] = {
    peakRssMb: peakRssMb(),
    wasmHeapMb: wasmHeapMb(),
    tensorPeakMb: (before + meter.peak()) / MIB,
  };
}

function secondsOf(run: () => void): number {
  const start = performance.now();
  run();
  return (performance.now() - start) / 1000;
}

function forwardTokensPerSecond(model: PretrainedCausalLM, ids: number[][], repeats: number): number {
  const run = () =>
    tf.tidy(() => {
      const logits = model.logits(tf.tensor2d(ids, undefined, 'int32'));
      logits.dataSync();
    });
  run();
  const seconds = secondsOf(() => {
    for (let i = 0; i < repeats; i++) run();
  });
  return (repeats * ids.length * ids[0].length) / seconds;
}

function generateTokensPerSecond(model: PretrainedCausalLM, prompts: number[][], tokens: number): number {
  const decoder = { decode: (ids: readonly number[]) => ids.join(' ') };
  const requests = prompts.map((promptIds, seed) => ({ promptIds, seed }));
  const run = () => generate(model, decoder, requests, { temperature: 0, maxTokens: tokens });
  run();
  let generated = 0;
  const seconds = secondsOf(() => {
    generated = run().reduce((n, c) => n + c.tokens.length, 0);
  });
  return generated / seconds;
}

/**
 * Loads the checkpoint with LoRA and measures, in this order: forward, generation, training (the largest
 * heap last, since the wasm heap never shrinks), and the memory of each stage.
 */
export function measureOurs(dir: string, work: Workload, context: number): OurResult {
  const memory: Record<string, StageMemory> = {};
  let model!: PretrainedCausalLM;
  let loadSeconds = 0;
  stage(memory, 'load', () => {
    loadSeconds = secondsOf(() => {
      model = loadPretrained(dir, {
        lora: { rank: work.lora.rank, alpha: work.lora.alpha, targets: [...work.lora.targets] },
        seed: 1,
        context,
      }).model;
    });
  });
  const result: OurResult = {
    loadSeconds,
    checkLogits: new Float32Array(),
    generateTokensPerSecond: {},
    memory,
  };
  try {
    result.checkLogits = tf.tidy(
      () => model.logits(tf.tensor2d(work.checkIds, undefined, 'int32')).dataSync() as Float32Array,
    );
    if (work.forward.repeats > 0)
      stage(memory, 'forward', () => {
        result.forwardTokensPerSecond = forwardTokensPerSecond(model, work.forward.ids, work.forward.repeats);
      });
    if (work.generate.prompts.length > 0)
      stage(memory, 'generate', () => {
        for (const prompts of work.generate.prompts)
          result.generateTokensPerSecond[String(prompts.length)] = generateTokensPerSecond(
            model,
            prompts,
            work.generate.tokens,
          );
      });
    if (work.train.steps > 0) {
      const sequences = work.train.sequences.map((tokens) => ({ tokens, completionStart: 1 }));
      const trainer = new SftTrainer(model, sequences, {
        batchSize: sequences.length,
        padId: 0,
        seed: 1,
        schedule: { type: 'constant', learningRate: 1e-4, totalSteps: work.train.steps + 2 },
      });
      try {
        stage(memory, 'train', () => {
          result.firstLoss = trainer.trainStep().loss;
          const seconds = secondsOf(() => {
            for (let i = 0; i < work.train.steps; i++) trainer.trainStep();
          });
          const tokens = sequences.length * (sequences[0].tokens.length - 1);
          result.trainTokensPerSecond = (work.train.steps * tokens) / seconds;
        });
      } finally {
        trainer.dispose();
      }
    }
  } finally {
    model.dispose();
  }
  return result;
}
