import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from './backend';
import { blasUnavailableReason } from './backend/blas-addon';
import { TransformerConfigInput } from './model/config';
import { TransformerPolicy } from './model/transformer';
import { generate } from './sampling/sampler';
import { decodeCheckpoint, encodeCheckpoint, loadWeights } from './training/checkpoint';
import { GrpoTrainer, RolloutGroup } from './training/grpo-trainer';
import { adaptersOffReference } from './training/lora';
import { SftTrainer } from './training/sft-trainer';

// Counts live tensors (tf.memory().numTensors) around repeated steps: a tensor left undisposed per
// generate/train step, per model or per restore grows the count and fails these, whatever the timing.
const STEPS = 3;
const MODEL: TransformerConfigInput = {
  vocabSize: 12,
  dModel: 16,
  layers: 2,
  heads: 2,
  context: 24,
  seed: 7,
};
const LORA_MODEL: TransformerConfigInput = {
  ...MODEL,
  lora: { rank: 2, alpha: 4, targets: ['q', 'v', 'up'] },
};
const decoder = { decode: (ids: readonly number[]) => ids.join(' ') };
const sequences = Array.from({ length: 16 }, (_, i) => ({
  tokens: Array.from({ length: 6 + (i % 5) }, (_, t) => (i * 3 + t * 5) % 12),
  completionStart: 2,
}));
const rollouts: RolloutGroup[] = [
  {
    promptIds: [1, 2, 3],
    completions: [[4, 5], [6, 7, 8], [9], [10, 11, 4, 5]].map((ids, i) => ({
      completionIds: ids,
      rewards: { correct: i % 2 },
    })),
  },
];

function sftTrainer(model: TransformerPolicy): SftTrainer {
  return new SftTrainer(model, sequences, {
    batchSize: 4,
    gradientAccumulationSteps: 2,
    maxGradNorm: 1,
    padId: 0,
    seed: 1,
    schedule: { type: 'linear', learningRate: 1e-3, totalSteps: 100 },
  });
}

function sample(model: TransformerPolicy): void {
  // Two prompt lengths (left padding) and a stop token, sampled and greedy.
  const requests = [
    { promptIds: [1, 2, 3, 4], seed: 1 },
    { promptIds: [5, 6], seed: 2 },
  ];
  generate(model, decoder, requests, { temperature: 0.8, topK: 5, maxTokens: 6, stopTokenIds: [11] });
  generate(model, decoder, requests.slice(0, 1), { temperature: 0, maxTokens: 4 });
}

/** Live tensors added by `run`, measured after one warm-up call (lazily created kernel state). */
function tensorsAddedBy(run: () => void, times = STEPS): number {
  run();
  const before = tf.memory().numTensors;
  for (let i = 0; i < times; i++) run();
  return tf.memory().numTensors - before;
}

// wasm-openblas (the OpenBLAS matmul kernels) runs when its addon is built, as `npm run setup` does.
const blasUnavailable = blasUnavailableReason();
if (blasUnavailable) console.warn(`wasm-openblas tensor-leak tests skipped: ${blasUnavailable}`);
const BACKENDS = blasUnavailable ? (['cpu', 'wasm'] as const) : (['cpu', 'wasm', 'wasm-openblas'] as const);

describe.each(BACKENDS)('tfjs tensors on the %s backend', (backend) => {
  beforeAll(async () => {
    await selectBackend(backend);
  });

  it('a model and its trainer leave no tensor behind once disposed', () => {
    const added = tensorsAddedBy(() => {
      const model = new TransformerPolicy(MODEL);
      sftTrainer(model).dispose();
      model.dispose();
    });
    expect(added).toBe(0);
  });

  it('generate and SFT steps leave no tensor alive (only weights and optimiser moments persist)', () => {
    const model = new TransformerPolicy(MODEL);
    const trainer = sftTrainer(model);
    expect(tensorsAddedBy(() => sample(model))).toBe(0);
    expect(tensorsAddedBy(() => trainer.trainStep())).toBe(0);
    expect(tensorsAddedBy(() => trainer.evaluate(sequences.slice(0, 6)))).toBe(0);
    trainer.dispose();
    model.dispose();
  });

  it('GRPO steps with LoRA and an adapters-off reference leave no tensor alive', () => {
    const model = new TransformerPolicy(LORA_MODEL);
    const trainer = new GrpoTrainer(model, adaptersOffReference(model), {
      grpo: { numGenerations: 4, beta: 0.04, numIterations: 2 },
      microBatchSize: 2,
      maxGradNorm: 1,
      padId: 0,
      schedule: { type: 'constant', learningRate: 1e-3, totalSteps: 100 },
    });
    expect(tensorsAddedBy(() => trainer.train(rollouts))).toBe(0);
    expect(tensorsAddedBy(() => sample(model))).toBe(0);
    trainer.dispose();
    model.dispose();
  });

  it('restoring weights and optimiser state from a checkpoint leaves no tensor behind', () => {
    const model = new TransformerPolicy(MODEL);
    const trainer = sftTrainer(model);
    trainer.trainStep();
    const { bytes } = encodeCheckpoint({
      config: model.config,
      tokenizerHash: 'none',
      weights: model.namedWeights(),
      trainer: trainer.getState(),
    });
    expect(
      tensorsAddedBy(() => {
        const checkpoint = decodeCheckpoint(bytes);
        loadWeights(model.namedWeights(), checkpoint.weights);
        trainer.setState(checkpoint.trainer);
      }),
    ).toBe(0);
    trainer.dispose();
    model.dispose();
  });
});
