import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { decodeCheckpoint, encodeCheckpoint, loadWeights, weightsHash } from './checkpoint';
import { SftTrainer, SftTrainerConfigInput } from './sft-trainer';
import { ARITHMETIC_VOCAB, arithmeticSequences } from './testing/arithmetic-text';
import { TinyLm } from './testing/tiny-lm';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const train = arithmeticSequences(256, 1);
const heldOut = arithmeticSequences(64, 2);
const modelConfig = { vocab: ARITHMETIC_VOCAB.length, dModel: 16, seed: 7 };
const trainerConfig: SftTrainerConfigInput = {
  batchSize: 8,
  gradientAccumulationSteps: 2,
  maxGradNorm: 1,
  padId: 0,
  seed: 3,
  schedule: { type: 'linear', learningRate: 0.02, totalSteps: 40, warmupSteps: 4 },
  optimizer: { weightDecay: 0.01 },
};

describe('SftTrainer', () => {
  test('step metrics: warmup lr, token counts, finite loss and gradient norm', () => {
    const model = new TinyLm(modelConfig);
    const trainer = new SftTrainer(model, train, trainerConfig);
    const first = trainer.trainStep();
    const second = trainer.trainStep();
    expect(first.learningRate).toBe(0); // HF semantics: factor(0) = 0 with warmup
    expect(second.learningRate).toBeCloseTo(0.005, 9);
    expect(first.sequences).toBe(16);
    expect(first.tokens).toBeGreaterThanOrEqual(16 * 2);
    expect(Number.isFinite(first.loss) && first.loss > 0).toBe(true);
    expect(first.gradNorm).toBeGreaterThan(0);
    expect(second.step).toBe(2);
    trainer.dispose();
    model.dispose();
  });

  test('accumulation: 2 micro-batches of 4 give the same update as 1 batch of 8', () => {
    const run = (batchSize: number, gradientAccumulationSteps: number) => {
      const model = new TinyLm(modelConfig);
      const trainer = new SftTrainer(model, train, {
        ...trainerConfig,
        batchSize,
        gradientAccumulationSteps,
        schedule: { learningRate: 0.01, totalSteps: 5 },
      });
      const metrics = trainer.trainStep();
      const weights = new Map([...model.namedWeights()].map(([n, v]) => [n, [...v.dataSync()]]));
      trainer.dispose();
      model.dispose();
      return { metrics, weights };
    };
    const one = run(8, 1);
    const two = run(4, 2);
    expect(two.metrics.loss).toBeCloseTo(one.metrics.loss, 5);
    expect(two.metrics.gradNorm).toBeCloseTo(one.metrics.gradNorm, 5);
    for (const [name, values] of one.weights) {
      (two.weights.get(name) as number[]).forEach((x, i) => expect(x).toBeCloseTo(values[i], 5));
    }
  });

  test('resume: N straight steps == N/2, checkpoint, restore into a fresh model and trainer, N/2 more', () => {
    const N = 6;
    const straightModel = new TinyLm(modelConfig);
    const straight = new SftTrainer(straightModel, train, trainerConfig);
    for (let i = 0; i < N; i++) straight.trainStep();

    const firstModel = new TinyLm(modelConfig);
    const firstHalf = new SftTrainer(firstModel, train, trainerConfig);
    for (let i = 0; i < N / 2; i++) firstHalf.trainStep();
    const blob = encodeCheckpoint({
      config: { model: modelConfig, trainer: trainerConfig },
      tokenizerHash: 'sha256:test-vocab',
      weights: firstModel.namedWeights(),
      trainer: firstHalf.getState(),
    });
    firstHalf.dispose();
    firstModel.dispose();

    const decoded = decodeCheckpoint(blob.bytes, blob.hash);
    expect(decoded.tokenizerHash).toBe('sha256:test-vocab');
    expect(decoded.trainer.step).toBe(N / 2);
    const resumedModel = new TinyLm({ ...modelConfig, seed: 999 }); // different init: weights must come from the blob
    loadWeights(resumedModel.namedWeights(), decoded.weights);
    const resumed = new SftTrainer(resumedModel, train, trainerConfig);
    resumed.setState(decoded.trainer);
    for (let i = 0; i < N / 2; i++) resumed.trainStep();

    expect(resumed.step).toBe(N);
    expect(weightsHash(resumedModel.namedWeights())).toBe(weightsHash(straightModel.namedWeights()));
    const finalStraight = encodeCheckpoint({
      config: {},
      tokenizerHash: 'x',
      weights: straightModel.namedWeights(),
      trainer: straight.getState(),
    });
    const finalResumed = encodeCheckpoint({
      config: {},
      tokenizerHash: 'x',
      weights: resumedModel.namedWeights(),
      trainer: resumed.getState(),
    });
    expect(finalResumed.hash).toBe(finalStraight.hash);
  });

  test('training on generated text lowers held-out loss (fixed seed, relative drop)', () => {
    const model = new TinyLm({ ...modelConfig, dModel: 32 });
    const trainer = new SftTrainer(model, train, {
      ...trainerConfig,
      schedule: { type: 'cosine', learningRate: 0.03, totalSteps: 60, warmupRatio: 0.1 },
    });
    const before = trainer.evaluate(heldOut);
    for (let i = 0; i < 60; i++) trainer.trainStep();
    const after = trainer.evaluate(heldOut);
    expect(after).toBeLessThan(0.7 * before);
  });

  test('LoRA: only adapters are trained, base weights stay bitwise equal', () => {
    const model = new TinyLm({ ...modelConfig, loraRank: 2, loraAlpha: 4 });
    const base = model.namedWeights().get('lm_head.weight') as tf.Variable;
    const baseBefore = [...base.dataSync()];
    const trainer = new SftTrainer(model, train, {
      ...trainerConfig,
      schedule: { learningRate: 0.05, totalSteps: 3 },
    });
    const before = trainer.evaluate(heldOut);
    for (let i = 0; i < 3; i++) trainer.trainStep();
    expect([...base.dataSync()]).toEqual(baseBefore);
    expect(trainer.evaluate(heldOut)).toBeLessThan(before);
    expect(Object.keys(trainer.getState().optimizer.moments).sort()).toEqual([
      'lm_head.lora_a',
      'lm_head.lora_b',
    ]);
  });

  test('steps release their tensors (no leak per step)', () => {
    const model = new TinyLm(modelConfig);
    const trainer = new SftTrainer(model, train, trainerConfig);
    trainer.trainStep();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) trainer.trainStep();
    trainer.evaluate(heldOut);
    expect(tf.memory().numTensors).toBe(before);
  });

  test('sequences longer than the context are rejected with the row named', () => {
    const model = new TinyLm(modelConfig);
    const trainer = new SftTrainer(model, train, { ...trainerConfig, maxLength: 3 });
    expect(() => trainer.trainStep()).toThrow(/row \d+ needs \d+ positions, context is 3/);
  });
});
