import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { combineRewards, groupAdvantages } from './advantages';
import { grpoLoss, GrpoLossOptions, grpoTokenMetrics } from './grpo-loss';
import { sftLossFromLogits, sftLossFromLogProbs } from './sft-loss';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const close = (actual: ArrayLike<number>, expected: number[], digits = 6) => {
  expect(actual).toHaveLength(expected.length);
  expected.forEach((e, i) => expect(actual[i]).toBeCloseTo(e, digits));
};

describe('SFT loss', () => {
  test('uniform logits: ln 2 on the completion token, zero gradient on the prompt token', () => {
    const logits = tf.zeros([1, 2, 2]) as tf.Tensor3D;
    const targets = tf.tensor2d([[0, 0]], undefined, 'int32');
    const mask = tf.tensor2d([[0, 1]]);
    const { value, grad } = tf.valueAndGrad((x: tf.Tensor) =>
      sftLossFromLogits(x as tf.Tensor3D, targets, mask),
    )(logits);
    expect(value.dataSync()[0]).toBeCloseTo(Math.LN2, 6);
    close(grad.dataSync(), [0, 0, -0.5, 0.5]);
  });

  test('mean over completion tokens only; explicit normaliser for accumulation', () => {
    const logProbs = tf.tensor2d([
      [-9, -1, -3],
      [-2, -4, -7],
    ]);
    const mask = tf.tensor2d([
      [0, 1, 1],
      [0, 1, 0],
    ]);
    expect(sftLossFromLogProbs(logProbs, mask).dataSync()[0]).toBeCloseTo(8 / 3, 6);
    expect(sftLossFromLogProbs(logProbs, mask, 8).dataSync()[0]).toBeCloseTo(1, 6);
  });

  test('shape mismatch names both tensors', () => {
    expect(() =>
      sftLossFromLogProbs(tf.zeros([2, 3]) as tf.Tensor2D, tf.zeros([2, 2]) as tf.Tensor2D),
    ).toThrow(/logProbs shape \[2,3\] differs from completionMask shape \[2,2\]/);
  });
});

describe('group-relative advantages', () => {
  const rewards = [1, 3, 2, 2];
  test.each([
    ['group', true, [-1 / (Math.SQRT2 + 1e-4), 1 / (Math.SQRT2 + 1e-4), 0, 0]],
    ['group', false, [-1 / (1 + 1e-4), 1 / (1 + 1e-4), 0, 0]],
    ['none', true, [-1, 1, 0, 0]],
    // batch std of [1,3,2,2], unbiased: sqrt(2/3)
    ['batch', true, [-1 / (Math.sqrt(2 / 3) + 1e-4), 1 / (Math.sqrt(2 / 3) + 1e-4), 0, 0]],
  ] as const)('scale %s, unbiased %s', (scaleRewards, unbiasedStd, expected) => {
    const result = groupAdvantages(rewards, { numGenerations: 2, scaleRewards, unbiasedStd, epsilon: 1e-4 });
    close(result.advantages, [...expected]);
    expect(result.zeroStdGroups).toBe(1);
  });

  test('weighted components are summed; unknown weight and ragged rows are errors', () => {
    expect(combineRewards({ a: [1, 2], b: [10, 20] }, { b: 0.5 })).toEqual([6, 12]);
    expect(() => combineRewards({ a: [1] }, { c: 1 })).toThrow(/unknown component "c"/);
    expect(() => combineRewards({ a: [1], b: [1, 2] }, {})).toThrow(/"b" has 2 rows/);
    expect(() =>
      groupAdvantages([1, 2, 3], { numGenerations: 2, scaleRewards: 'group', unbiasedStd: true, epsilon: 0 }),
    ).toThrow(/not a positive multiple of numGenerations 2/);
  });
});

describe('GRPO loss', () => {
  const base: GrpoLossOptions = { lossType: 'grpo', epsilon: 0.2, beta: 0 };
  const gradOf = (
    options: GrpoLossOptions,
    lp: number[][],
    extra: { old?: number[][]; ref?: number[][] },
    adv: number[],
    mask: number[][],
  ) => {
    const kept: tf.Tensor[] = [];
    const f = (x: tf.Tensor) => {
      const out = grpoLoss(
        {
          logProbs: x as tf.Tensor2D,
          oldLogProbs: extra.old ? tf.tensor2d(extra.old) : undefined,
          refLogProbs: extra.ref ? tf.tensor2d(extra.ref) : undefined,
          advantages: tf.tensor1d(adv),
          completionMask: tf.tensor2d(mask),
        },
        options,
      );
      kept.push(out.ratio);
      return out.loss;
    };
    const { value, grad } = tf.valueAndGrad(f)(tf.tensor2d(lp));
    kept.forEach((t) => t.dispose());
    return { loss: value.dataSync()[0], grad: [...grad.dataSync()] };
  };

  test('first iteration (old = current, detached): loss = -mean A, gradient -A/(tokens*rows)', () => {
    const { loss, grad } = gradOf(
      base,
      [
        [-1, -2],
        [-0.5, -3],
      ],
      {},
      [1, -1],
      [
        [1, 1],
        [1, 1],
      ],
    );
    expect(loss).toBeCloseTo(0, 7);
    close(grad, [-0.25, -0.25, 0.25, 0.25]);
  });

  test('clipped tokens get no gradient; unclipped ones get -A*ratio', () => {
    const lp = [
      [Math.log(1.5), Math.log(0.5)],
      [Math.log(0.5), 0],
    ];
    // row 0: A=+1, ratios 1.5 (clipped high) and 0.5 (not clipped: A>0); row 1: A=-1, ratio 0.5 (clipped low), 1.
    const { grad } = gradOf(
      { ...base, lossType: 'bnpo' },
      lp,
      {
        old: [
          [0, 0],
          [0, 0],
        ],
      },
      [1, -1],
      [
        [1, 1],
        [1, 1],
      ],
    );
    close(grad, [0, -0.5 / 4, 0, 1 / 4]);
    const metrics = grpoTokenMetrics({
      ratio: [1.5, 0.5, 0.5, 1],
      advantages: [1, -1],
      mask: [1, 1, 1, 1],
      columns: 2,
      epsilon: 0.2,
    });
    expect(metrics).toMatchObject({
      tokens: 4,
      clipRatioHigh: 0.25,
      clipRatioLow: 0.25,
      clipRatioRegion: 0.5,
    });
  });

  test('epsilonHigh widens only the upper bound', () => {
    const { grad } = gradOf(
      { ...base, lossType: 'bnpo', epsilonHigh: 0.6 },
      [[Math.log(1.5)]],
      { old: [[0]] },
      [1],
      [[1]],
    );
    close(grad, [-1.5]);
  });

  test('k3 KL: zero with zero gradient at ref = current; exp(d)-d-1 otherwise', () => {
    const same = gradOf({ ...base, beta: 0.5 }, [[-1]], { ref: [[-1]] }, [0], [[1]]);
    expect(same.loss).toBeCloseTo(0, 7);
    close(same.grad, [0]);
    const off = gradOf({ ...base, beta: 0.5 }, [[-1]], { ref: [[-2]] }, [0], [[1]]);
    expect(off.loss).toBeCloseTo(0.5 * (Math.exp(-1) + 1 - 1), 6);
    close(off.grad, [0.5 * (1 - Math.exp(-1))]);
  });

  test('aggregation: grpo, bnpo, dr_grpo and dapo normalise differently', () => {
    // Per-token loss is -A = -1 on every token at ratio 1; row 0 has 1 token, row 1 has 3.
    const lp = [
      [0, 0, 0],
      [0, 0, 0],
    ];
    const mask = [
      [1, 0, 0],
      [1, 1, 1],
    ];
    const lossOf = (o: Partial<GrpoLossOptions>) => gradOf({ ...base, ...o }, lp, {}, [1, 1], mask).loss;
    expect(lossOf({ lossType: 'grpo' })).toBeCloseTo(-1, 6);
    expect(lossOf({ lossType: 'grpo', gradientAccumulationSteps: 4 })).toBeCloseTo(-0.25, 6);
    expect(lossOf({ lossType: 'bnpo' })).toBeCloseTo(-1, 6);
    expect(lossOf({ lossType: 'dr_grpo', maxCompletionLength: 8 })).toBeCloseTo(-4 / 16, 6);
    expect(lossOf({ lossType: 'dapo' })).toBeCloseTo(-1, 6);
    expect(lossOf({ lossType: 'dapo', numItemsInBatch: 16 })).toBeCloseTo(-4 / 16, 6);
    // grpo weights rows equally: gradient on row 0's single token is 3x a row-1 token's.
    const g = gradOf(base, lp, {}, [1, 1], mask).grad;
    expect(g[0] / g[3]).toBeCloseTo(3, 6);
  });

  test('beta > 0 without reference log-probs is an error', () => {
    expect(() =>
      grpoLoss(
        { logProbs: tf.zeros([1, 1]), advantages: tf.zeros([1]), completionMask: tf.ones([1, 1]) } as never,
        { ...base, beta: 0.1 },
      ),
    ).toThrow(/beta > 0 needs refLogProbs/);
  });
});
