import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { AdamW, clipGradNorm, GradientAccumulator } from './optimizer';
import { LrSchedule } from './schedule';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('AdamW', () => {
  test('first step moves each weight by lr*sign(g) after decoupled decay; norms are not decayed', () => {
    const w = tf.variable(tf.tensor1d([1, -2]));
    const normWeight = tf.variable(tf.tensor1d([1]));
    const opt = new AdamW(
      new Map([
        ['w', w],
        ['ln_f.weight', normWeight],
      ]),
      { weightDecay: 0.1, eps: 1e-12 },
    );
    opt.apply({ w: tf.tensor1d([0.3, -5]), 'ln_f.weight': tf.tensor1d([2]) }, 0.01);
    const decay = 1 - 0.01 * 0.1;
    expect(w.dataSync()[0]).toBeCloseTo(1 * decay - 0.01, 6);
    expect(w.dataSync()[1]).toBeCloseTo(-2 * decay + 0.01, 6);
    expect(normWeight.dataSync()[0]).toBeCloseTo(1 - 0.01, 6);
    expect(opt.step).toBe(1);
  });

  test('second step follows the bias-corrected moments (hand-computed)', () => {
    const w = tf.variable(tf.tensor1d([0]));
    const opt = new AdamW(new Map([['w', w]]), { beta1: 0.9, beta2: 0.99, eps: 1e-12 });
    opt.apply({ w: tf.tensor1d([1]) }, 0.1);
    opt.apply({ w: tf.tensor1d([3]) }, 0.1);
    const m = 0.9 * 0.1 + 0.1 * 3;
    const v = 0.99 * 0.01 + 0.01 * 9;
    const expected = -0.1 - (0.1 * (m / (1 - 0.81))) / Math.sqrt(v / (1 - 0.99 * 0.99));
    expect(w.dataSync()[0]).toBeCloseTo(expected, 5);
  });

  test('state round-trips: a restored optimiser continues exactly like the original', () => {
    const make = () =>
      tf.variable(
        tf.tensor2d([
          [0.5, -0.25],
          [1, 2],
        ]),
      );
    const grads = [
      tf.tensor2d([
        [1, 2],
        [3, 4],
      ]),
      tf.tensor2d([
        [-1, 0.5],
        [2, -3],
      ]),
      tf.tensor2d([
        [0.1, 0.2],
        [0.3, 0.4],
      ]),
    ];
    const a = make();
    const optA = new AdamW(new Map([['w', a]]), { weightDecay: 0.01 });
    grads.forEach((g) => optA.apply({ w: g }, 0.05));
    const b = make();
    const optB = new AdamW(new Map([['w', b]]), { weightDecay: 0.01 });
    optB.apply({ w: grads[0] }, 0.05);
    const c = tf.variable(b.clone());
    const optC = new AdamW(new Map([['w', c]]), { weightDecay: 0.01 });
    optC.setState(structuredClone(optB.getState()));
    grads.slice(1).forEach((g) => optC.apply({ w: g }, 0.05));
    expect([...c.dataSync()]).toEqual([...a.dataSync()]);
    expect(optC.step).toBe(3);
  });

  test('missing or unknown gradients are errors', () => {
    const opt = new AdamW(new Map([['w', tf.variable(tf.zeros([1]))]]));
    expect(() => opt.apply({}, 0.1)).toThrow(/no gradient for weight "w"/);
    expect(() => opt.apply({ w: tf.zeros([1]), x: tf.zeros([1]) }, 0.1)).toThrow(/unknown weight "x"/);
  });
});

describe('global-norm clipping and accumulation', () => {
  test('returns the pre-clip norm and scales by max/(norm+1e-6)', () => {
    const { grads, norm } = clipGradNorm({ a: tf.tensor1d([3]), b: tf.tensor1d([4]) }, 1);
    expect(norm).toBeCloseTo(5, 6);
    expect(grads.a.dataSync()[0]).toBeCloseTo(0.6, 5);
    expect(grads.b.dataSync()[0]).toBeCloseTo(0.8, 5);
    const unclipped = clipGradNorm({ a: tf.tensor1d([0.3]) }, 1);
    expect(unclipped.grads.a.dataSync()[0]).toBeCloseTo(0.3, 7);
  });

  test('accumulator sums micro-batch gradients', () => {
    const acc = new GradientAccumulator();
    acc.add({ w: tf.tensor1d([1, 2]) });
    acc.add({ w: tf.tensor1d([3, 4]) });
    expect(acc.microBatches).toBe(2);
    expect([...acc.take().w.dataSync()]).toEqual([4, 6]);
    expect(acc.microBatches).toBe(0);
  });
});

describe('learning-rate schedules (HF semantics)', () => {
  test('linear with warmup steps', () => {
    const s = new LrSchedule({ type: 'linear', learningRate: 1, totalSteps: 10, warmupSteps: 2 });
    expect([0, 1, 2, 6, 10, 11].map((k) => s.factor(k))).toEqual([0, 0.5, 1, 0.5, 0, 0]);
  });

  test('cosine with warmup ratio (ceil(ratio*total) steps)', () => {
    const s = new LrSchedule({ type: 'cosine', learningRate: 2, totalSteps: 16, warmupRatio: 0.1 });
    expect(s.warmupSteps).toBe(2);
    expect(s.learningRate(1)).toBeCloseTo(1, 9);
    expect(s.learningRate(2)).toBeCloseTo(2, 9);
    expect(s.factor(9)).toBeCloseTo(0.5, 9);
    expect(s.factor(16)).toBeCloseTo(0, 9);
  });

  test('invalid config names the field', () => {
    expect(() => new LrSchedule({ learningRate: -1, totalSteps: 3 })).toThrow(/learningRate/);
    expect(
      () => new LrSchedule({ learningRate: 1, totalSteps: 3, warmupSteps: 1, warmupRatio: 0.1 }),
    ).toThrow(/warmupRatio/);
  });
});
