import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { checkpointHash, decodeCheckpoint, encodeCheckpoint, loadWeights } from './checkpoint';
import { GrpoTrainer } from './grpo-trainer';
import { adaptersOffReference } from './lora';
import { TinyLm } from './testing/tiny-lm';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const content = () => ({
  config: { model: { d: 2 }, lr: 0.1 },
  tokenizerHash: 'abc123',
  weights: new Map<string, tf.Tensor>([
    ['b', tf.tensor1d([1.5, -2])],
    ['a', tf.tensor2d([[0.25], [Math.PI]])],
  ]),
  trainer: {
    step: 3,
    optimizer: {
      step: 3,
      moments: {
        a: { shape: [2, 1], m: Float32Array.from([0.1, 0.2]), v: Float32Array.from([0.3, 0.4]) },
        b: { shape: [2], m: Float32Array.from([1, 2]), v: Float32Array.from([3, 4]) },
      },
    },
    rng: { algorithm: 'mulberry32' as const, state: 42 },
    dataPosition: { epoch: 1, index: 5, epochRng: { algorithm: 'mulberry32' as const, state: 7 } },
  },
});

describe('checkpoint format', () => {
  test('round-trips every field; same state gives the same bytes whatever the insertion order', () => {
    const { bytes, hash } = encodeCheckpoint(content());
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(Buffer.from(bytes.subarray(0, 8)).toString('ascii')).toBe('RECONCKP');
    const decoded = decodeCheckpoint(bytes, hash);
    expect(decoded.config).toEqual({ model: { d: 2 }, lr: 0.1 });
    expect(decoded.tokenizerHash).toBe('abc123');
    expect([...(decoded.weights.get('a')?.values ?? [])]).toEqual([0.25, Math.fround(Math.PI)]);
    expect(decoded.weights.get('a')?.shape).toEqual([2, 1]);
    expect(decoded.trainer).toEqual(content().trainer);
    const reordered = content();
    reordered.weights = new Map([...reordered.weights].reverse());
    expect(encodeCheckpoint(reordered).hash).toBe(hash);
  });

  test('corruption is detected and reported', () => {
    const { bytes, hash } = encodeCheckpoint(content());
    const flipped = bytes.slice();
    flipped[flipped.length - 1] ^= 1;
    expect(() => decodeCheckpoint(flipped, hash)).toThrow(/content hash .* != expected/);
    expect(() => decodeCheckpoint(Uint8Array.from([1, 2, 3]))).toThrow(/bad magic/);
    const text = Buffer.from(bytes).toString('latin1').replace('"mulberry32"', '"mulberry99"');
    expect(() => decodeCheckpoint(Uint8Array.from(Buffer.from(text, 'latin1')))).toThrow(
      /header field trainer\.(rng|dataPosition)/,
    );
    expect(checkpointHash(flipped)).not.toBe(hash);
  });

  test('loadWeights names missing and mismatched weights', () => {
    const decoded = decodeCheckpoint(encodeCheckpoint(content()).bytes);
    expect(() =>
      loadWeights(
        new Map([
          ['a', tf.variable(tf.zeros([2, 1]))],
          ['c', tf.variable(tf.zeros([1]))],
        ]),
        decoded.weights,
      ),
    ).toThrow(/checkpoint has no weight "c"/);
    expect(() =>
      loadWeights(
        new Map([
          ['a', tf.variable(tf.zeros([1, 2]))],
          ['b', tf.variable(tf.zeros([2]))],
        ]),
        decoded.weights,
      ),
    ).toThrow(/"a" is \[2,1\] in the checkpoint, \[1,2\] in the model/);
  });

  test('GRPO resume: checkpoint after 2 steps + 2 more equals 4 straight steps', () => {
    const groups = [
      {
        promptIds: [1, 2],
        completions: [[3, 4], [5], [3, 3, 6], [6, 6]].map((ids, i) => ({
          completionIds: ids,
          rewards: { r: i % 3 },
        })),
      },
    ];
    const cfg = {
      grpo: { numGenerations: 4, beta: 0.04 },
      microBatchSize: 2,
      padId: 0,
      schedule: { type: 'cosine' as const, learningRate: 0.1, totalSteps: 4, warmupSteps: 1 },
    };
    const modelConfig = { vocab: 8, dModel: 8, seed: 11, loraRank: 2 };
    const straightModel = new TinyLm(modelConfig);
    const straight = new GrpoTrainer(straightModel, adaptersOffReference(straightModel), cfg);
    for (let i = 0; i < 4; i++) straight.train(groups);

    const halfModel = new TinyLm(modelConfig);
    const half = new GrpoTrainer(halfModel, adaptersOffReference(halfModel), cfg);
    for (let i = 0; i < 2; i++) half.train(groups);
    const blob = encodeCheckpoint({
      config: cfg,
      tokenizerHash: 't',
      weights: halfModel.namedWeights(),
      trainer: half.getState(),
    });
    const decoded = decodeCheckpoint(blob.bytes, blob.hash);
    const resumedModel = new TinyLm({ ...modelConfig, seed: 12 });
    loadWeights(resumedModel.namedWeights(), decoded.weights);
    const resumed = new GrpoTrainer(resumedModel, adaptersOffReference(resumedModel), cfg);
    resumed.setState(decoded.trainer);
    for (let i = 0; i < 2; i++) resumed.train(groups);

    const final = (m: TinyLm, t: GrpoTrainer) =>
      encodeCheckpoint({ config: cfg, tokenizerHash: 't', weights: m.namedWeights(), trainer: t.getState() })
        .hash;
    expect(final(resumedModel, resumed)).toBe(final(straightModel, straight));
  });
});
