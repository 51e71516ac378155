import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { weightsHash } from './checkpoint';
import { GrpoTrainer, GrpoTrainerConfigInput, RolloutGroup } from './grpo-trainer';
import { adaptersOffReference } from './lora';
import { TinyLm } from './testing/tiny-lm';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const VOCAB = 8;
const GOOD = 5;
/** Two prompts, four completions each; completions containing token 5 are rewarded. */
function rollouts(): RolloutGroup[] {
  const completions: number[][][] = [
    [
      [5, 5, 7],
      [2, 3],
      [5, 1, 7],
      [3, 3, 3, 7],
    ],
    [
      [4, 4],
      [5, 7],
      [2, 2, 2],
      [6, 7],
    ],
  ];
  return completions.map((group, gi) => ({
    promptIds: gi === 0 ? [1, 2] : [1, 3, 4],
    completions: group.map((ids) => ({
      completionIds: ids,
      rewards: { correct: ids.includes(GOOD) ? 5 : -3, format: ids[ids.length - 1] === 7 ? 0.5 : -1 },
      truncated: ids[ids.length - 1] !== 7,
    })),
  }));
}

const config = (
  grpo: Partial<GrpoTrainerConfigInput['grpo']> = {},
  rest: Partial<GrpoTrainerConfigInput> = {},
): GrpoTrainerConfigInput => ({
  grpo: {
    numGenerations: 4,
    beta: 0.04,
    lossType: 'dapo',
    maxCompletionLength: 4,
    rewardWeights: { format: 0.5 },
    ...grpo,
  },
  microBatchSize: 4,
  maxGradNorm: 1,
  padId: 0,
  schedule: { type: 'constant', learningRate: 0.05, totalSteps: 100 },
  ...rest,
});

function meanLogProb(model: TinyLm, prompt: number[], completion: number[]): number {
  return tf.tidy(() => {
    const tokens = [...prompt, ...completion];
    const input = tf.tensor2d([tokens.slice(0, -1)], undefined, 'int32');
    const target = tf.tensor2d([tokens.slice(1)], undefined, 'int32');
    const lp = model.sequenceLogProbs(input, target).logProbs.dataSync();
    return [...lp].slice(prompt.length - 1).reduce((a, b) => a + b, 0) / completion.length;
  });
}

describe('GrpoTrainer', () => {
  test('metrics of the first step with LoRA (reference = adapters off, so kl = 0 and ratio = 1)', () => {
    const model = new TinyLm({ vocab: VOCAB, dModel: 8, seed: 1, loraRank: 2, loraAlpha: 4 });
    const trainer = new GrpoTrainer(model, adaptersOffReference(model), config());
    const [m] = trainer.train(rollouts());
    // weighted reward = correct + 0.5 * format
    const expected = [5.25, -3.5, 5.25, -2.75, -3.5, 5.25, -3.5, -2.75];
    expect(m.reward).toBeCloseTo(expected.reduce((a, b) => a + b) / 8, 9);
    expect(m.rewards.correct.mean).toBeCloseTo(0, 9);
    expect(m.completionLength).toEqual({ mean: 21 / 8, min: 2, max: 4 });
    expect(m.clippedRatio).toBeCloseTo(3 / 8, 9);
    expect(m.fracRewardZeroStd).toBe(0);
    expect(m.kl).toBeCloseTo(0, 9);
    expect(m.clipRatio).toEqual({ low: 0, high: 0, region: 0 });
    expect(m.entropy).toBeGreaterThan(0);
    expect(m.entropy).toBeLessThanOrEqual(Math.log(VOCAB) + 1e-6);
    expect(m.gradNorm).toBeGreaterThan(0);
    expect(m.learningRate).toBe(0.05);
    expect(m.step).toBe(1);
    // After an update the adapters are non-zero, so the policy has moved away from the reference.
    const [next] = trainer.train(rollouts());
    expect(next.kl as number).toBeGreaterThan(0);
  });

  test('raises the likelihood of rewarded completions and lowers the others', () => {
    const model = new TinyLm({ vocab: VOCAB, dModel: 8, seed: 2 });
    const groups = rollouts();
    const reference = new TinyLm({ vocab: VOCAB, dModel: 8, seed: 2 }); // frozen copy: LoRA not used
    const trainer = new GrpoTrainer(model, reference, config({ lossType: 'grpo' }));
    const good = () => meanLogProb(model, [1, 2], [5, 5, 7]);
    const bad = () => meanLogProb(model, [1, 3, 4], [2, 2, 2]);
    const [goodBefore, badBefore] = [good(), bad()];
    for (let i = 0; i < 10; i++) trainer.train(groups);
    expect(good()).toBeGreaterThan(goodBefore + 0.1);
    expect(bad()).toBeLessThan(badBefore - 0.1);
    expect(weightsHash(reference.namedWeights())).toBe(
      weightsHash(new TinyLm({ vocab: VOCAB, dModel: 8, seed: 2 }).namedWeights()),
    );
  });

  test('numIterations 2: two updates per batch, the second measured against the old policy', () => {
    const model = new TinyLm({ vocab: VOCAB, dModel: 8, seed: 3 });
    const trainer = new GrpoTrainer(
      model,
      undefined,
      config(
        { beta: 0, numIterations: 2, epsilon: 0.01 },
        { schedule: { type: 'constant', learningRate: 0.5, totalSteps: 10 } },
      ),
    );
    const metrics = trainer.train(rollouts());
    expect(metrics.map((m) => [m.step, m.iteration])).toEqual([
      [1, 0],
      [2, 1],
    ]);
    expect(metrics[0].clipRatio.region).toBe(0);
    expect(metrics[1].clipRatio.region).toBeGreaterThan(0);
    expect(metrics[0].kl).toBeUndefined();
  });

  test.each(['grpo', 'dr_grpo', 'dapo'] as const)(
    '%s: micro-batches of 2 update like one batch of 4 rows per group',
    (lossType) => {
      const run = (microBatchSize: number) => {
        const model = new TinyLm({ vocab: VOCAB, dModel: 8, seed: 4 });
        const trainer = new GrpoTrainer(model, undefined, config({ beta: 0, lossType }, { microBatchSize }));
        const [m] = trainer.train(rollouts());
        return {
          loss: m.loss,
          weights: new Map([...model.namedWeights()].map(([n, v]) => [n, [...v.dataSync()]])),
        };
      };
      const whole = run(4);
      const split = run(2);
      expect(split.loss).toBeCloseTo(whole.loss, 6);
      for (const [name, values] of whole.weights) {
        (split.weights.get(name) as number[]).forEach((x, i) => expect(x).toBeCloseTo(values[i], 5));
      }
    },
  );

  test('given old log-probs are used as pi_old (ratio != 1 on the first step)', () => {
    const model = new TinyLm({ vocab: VOCAB, dModel: 8, seed: 5 });
    const trainer = new GrpoTrainer(model, undefined, config({ beta: 0, epsilon: 0.01 }));
    const groups = rollouts().map((g) => ({
      ...g,
      completions: g.completions.map((c) => ({ ...c, oldLogProbs: c.completionIds.map(() => -0.5) })),
    }));
    const [m] = trainer.train(groups);
    expect(m.clipRatio.region).toBeGreaterThan(0);
  });

  test('temperature: log-probs and entropy are scored at the sampling temperature', () => {
    const entropyAt = (temperature: number) => {
      const model = new TinyLm({ vocab: VOCAB, dModel: 8, seed: 8 });
      const trainer = new GrpoTrainer(model, undefined, config({ beta: 0 }, { temperature }));
      return trainer.train(rollouts())[0].entropy;
    };
    expect(entropyAt(3)).toBeGreaterThan(entropyAt(1));
  });

  test('updates release their tensors (no leak per batch)', () => {
    const model = new TinyLm({ vocab: VOCAB, dModel: 8, seed: 7, loraRank: 2 });
    const trainer = new GrpoTrainer(
      model,
      adaptersOffReference(model),
      config({ numIterations: 2 }, { microBatchSize: 3 }),
    );
    trainer.train(rollouts());
    const before = tf.memory().numTensors;
    for (let i = 0; i < 2; i++) trainer.train(rollouts());
    expect(tf.memory().numTensors).toBe(before);
  });

  test('bad rollouts are rejected with the group and completion named', () => {
    const model = new TinyLm({ vocab: VOCAB, dModel: 8, seed: 6 });
    const trainer = new GrpoTrainer(model, undefined, config({ beta: 0 }));
    const groups = rollouts();
    expect(() => trainer.train([{ ...groups[0], completions: groups[0].completions.slice(1) }])).toThrow(
      /group 0 has 3 completions, numGenerations is 4/,
    );
    const badRewards = [
      {
        ...groups[0],
        completions: groups[0].completions.map((c, i) => (i === 2 ? { ...c, rewards: { correct: 1 } } : c)),
      },
    ];
    expect(() => trainer.train(badRewards)).toThrow(/group 0 completion 2 has reward components \[correct\]/);
    const tooLong = new GrpoTrainer(model, undefined, config({ beta: 0, maxCompletionLength: 3 }));
    expect(() => tooLong.train(groups)).toThrow(
      /group 0 completion 3 has 4 tokens, maxCompletionLength is 3/,
    );
    expect(() => new GrpoTrainer(model, undefined, config({ beta: 0.1 }))).toThrow(
      /needs a reference policy/,
    );
    expect(
      () =>
        new GrpoTrainer(
          model,
          undefined,
          config({ beta: 0, lossType: 'dr_grpo', maxCompletionLength: undefined }),
        ),
    ).toThrow(/maxCompletionLength/);
  });
});
