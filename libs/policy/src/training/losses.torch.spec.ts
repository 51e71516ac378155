import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { Mulberry32 } from '@recon/random';
import { combineRewards, groupAdvantages } from './advantages';
import { GrpoLossType, grpoLoss } from './grpo-loss';
import { sftLossFromLogits } from './sft-loss';

/**
 * Compares our SFT and GRPO losses and gradients with an independent PyTorch implementation
 * (libs/policy/reference/losses_reference.py) on fixed tensors. Skipped (not passed) without torch.
 */
// RECON_TORCH_PYTHON overrides the interpreter (e.g. to check the skip path).
const PYTHON = process.env.RECON_TORCH_PYTHON ?? '/usr/bin/python3';
const SCRIPT = path.resolve(__dirname, '../../reference/losses_reference.py');
const torchAvailable = spawnSync(PYTHON, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0;
const describeWithTorch = torchAvailable ? describe : describe.skip;
const TOLERANCE = 1e-5;

/** Deterministic uniform [0,1) numbers. */
function uniform(seed: number): () => number {
  const rng = new Mulberry32(seed);
  return () => rng.next();
}

const B = 8;
const T = 6;
const V = 7;
const G = 4;
const next = uniform(1234);
const grid = <X>(rows: number, cols: number, f: (r: number, c: number) => X): X[][] =>
  Array.from({ length: rows }, (_, r) => Array.from({ length: cols }, (_, c) => f(r, c)));

// Completion masks with different lengths per row (prompt positions first, padding last).
const mask = grid(B, T, (r, c): number => (c >= 1 + (r % 2) && c < T - (r % 3) ? 1 : 0));
const logProbs = grid(B, T, () => Math.log(0.05 + 0.9 * next()));
const oldLogProbs = logProbs.map((row) => row.map((x) => x + (next() - 0.5) * 0.8));
const refLogProbs = logProbs.map((row) => row.map((x) => x + (next() - 0.5) * 0.6));
const rewards = {
  correctness: [5, -3, 2, 5, 1, 1, 1, 1],
  format: [0.5, 0.5, -1, 0.25, 0, 0, 0, 0],
};
const weights = { correctness: 1, format: 0.5 };
const numItemsInBatch = 3 * mask.flat().reduce((a, b) => a + b, 0);

interface Case {
  lossType: GrpoLossType;
  scaleRewards: 'group' | 'batch' | 'none';
  unbiasedStd: boolean;
  epsilon: number;
  epsilonHigh?: number;
  beta: number;
  useOld: boolean;
  advantageEpsilon: number;
  maxCompletionLength: number;
  gradientAccumulationSteps: number;
  numItemsInBatch: number;
}
const cases: Case[] = [];
for (const lossType of ['grpo', 'bnpo', 'dr_grpo', 'dapo'] as const) {
  for (const scaleRewards of ['group', 'batch', 'none'] as const) {
    for (const useOld of [true, false]) {
      cases.push({
        lossType,
        scaleRewards,
        unbiasedStd: Math.floor(cases.length / 2) % 2 === 0,
        epsilon: 0.2,
        epsilonHigh: cases.length % 2 === 0 ? 0.28 : undefined,
        beta: useOld ? 0.04 : cases.length % 4 === 1 ? 0.1 : 0,
        useOld,
        advantageEpsilon: 1e-4,
        maxCompletionLength: 9,
        gradientAccumulationSteps: 1 + (cases.length % 3),
        numItemsInBatch,
      });
    }
  }
}

const sftCase = {
  logits: Array.from({ length: 3 }, () => grid(T, V, () => (next() - 0.5) * 6)),
  targets: grid(3, T, () => Math.floor(next() * V)),
  mask: grid(3, T, (r, c): number => (c > r ? 1 : 0)),
};

function maxAbsDiff(a: number[], b: number[]): number {
  expect(a).toHaveLength(b.length);
  return a.reduce((m, x, i) => Math.max(m, Math.abs(x - b[i])), 0);
}

describeWithTorch('losses match the PyTorch reference (1e-5)', () => {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  let reference: any;

  beforeAll(async () => {
    await tf.setBackend('cpu');
    const input = JSON.stringify({
      sft: sftCase,
      grpo: { logProbs, oldLogProbs, refLogProbs, mask, rewards, weights, numGenerations: G, cases },
    });
    const run = spawnSync(PYTHON, [SCRIPT], { input, encoding: 'utf8', maxBuffer: 64 << 20 });
    if (run.status !== 0) throw new Error(`losses_reference.py failed (${run.status}): ${run.stderr}`);
    reference = JSON.parse(run.stdout);
  });

  test('SFT completion-only cross-entropy: loss and d/d logits', () => {
    const logits = tf.tensor3d(sftCase.logits);
    const targets = tf.tensor2d(sftCase.targets, undefined, 'int32');
    const m = tf.tensor2d(sftCase.mask);
    const { value, grad } = tf.valueAndGrad((x: tf.Tensor) =>
      sftLossFromLogits(x as tf.Tensor3D, targets, m),
    )(logits);
    expect(Math.abs(value.dataSync()[0] - reference.sft.loss)).toBeLessThan(TOLERANCE);
    expect(maxAbsDiff([...grad.dataSync()], reference.sft.gradLogits.flat(2))).toBeLessThan(TOLERANCE);
  });

  test.each(cases.map((c, i) => [i, c.lossType, c.scaleRewards, c.useOld, c.beta, c] as const))(
    'GRPO case %i: loss_type=%s scale_rewards=%s old=%s beta=%s',
    (i, _lossType, _scale, _old, _beta, c) => {
      const combined = combineRewards(rewards, weights);
      const { advantages } = groupAdvantages(combined, {
        numGenerations: G,
        scaleRewards: c.scaleRewards,
        epsilon: c.advantageEpsilon,
        unbiasedStd: c.unbiasedStd,
      });
      const expected = reference.grpo[i];
      expect(maxAbsDiff(advantages, expected.advantages)).toBeLessThan(TOLERANCE);
      const kept: tf.Tensor[] = [];
      const lossOf = (lp: tf.Tensor) => {
        const out = grpoLoss(
          {
            logProbs: lp as tf.Tensor2D,
            oldLogProbs: c.useOld ? tf.tensor2d(oldLogProbs) : undefined,
            refLogProbs: tf.tensor2d(refLogProbs),
            advantages: tf.tensor1d(advantages),
            completionMask: tf.tensor2d(mask),
          },
          c,
        );
        kept.push(out.ratio, ...(out.perTokenKl ? [out.perTokenKl] : []));
        return out.loss;
      };
      const { value, grad } = tf.valueAndGrad(lossOf)(tf.tensor2d(logProbs));
      kept.forEach((t) => t.dispose());
      expect(Math.abs(value.dataSync()[0] - expected.loss)).toBeLessThan(TOLERANCE);
      expect(maxAbsDiff([...grad.dataSync()], expected.gradLogProbs.flat())).toBeLessThan(TOLERANCE);
    },
  );
});
