import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { TransformerPolicy } from '../model/transformer';
import { Rng } from '../training/rng';
import { generate } from './sampler';
import { chooseToken, logSoftmax } from './token-choice';

const config = { vocabSize: 30, dModel: 16, layers: 2, heads: 2, context: 32, seed: 3 };
// A decoder whose text is one letter per id, so stop strings are easy to aim at.
const letters = {
  decode: (ids: readonly number[]) => ids.map((i) => String.fromCharCode(97 + (i % 26))).join(''),
};

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('chooseToken', () => {
  it('is greedy at temperature 0 and honours top-k = 1 at any temperature', () => {
    const logits = [0.1, 2, 0.5, 2];
    expect(chooseToken(logits, { temperature: 0 }, new Rng(1))).toBe(1);
    for (let seed = 0; seed < 20; seed++)
      expect(chooseToken(logits, { temperature: 5, topK: 1 }, new Rng(seed))).toBe(1);
  });

  it('top-p keeps the smallest set reaching the mass', () => {
    const logits = [Math.log(0.6), Math.log(0.3), Math.log(0.1)];
    const seen = new Set<number>();
    for (let seed = 0; seed < 200; seed++)
      seen.add(chooseToken(logits, { temperature: 1, topP: 0.8 }, new Rng(seed)));
    expect([...seen].sort()).toEqual([0, 1]);
  });

  it('samples in proportion to the probabilities', () => {
    const logits = [Math.log(0.75), Math.log(0.25)];
    const rng = new Rng(9);
    let zeros = 0;
    for (let i = 0; i < 4000; i++) zeros += chooseToken(logits, { temperature: 1 }, rng) === 0 ? 1 : 0;
    expect(zeros / 4000).toBeGreaterThan(0.72);
    expect(zeros / 4000).toBeLessThan(0.78);
    expect(Math.exp(logSoftmax(logits, 1)[1])).toBeCloseTo(0.25, 10);
  });
});

describe('generate', () => {
  const model = new TransformerPolicy(config);

  it('returns the same completion for a row alone or left-padded in a batch', () => {
    const options = { temperature: 0.9, maxTokens: 8 };
    const alone = generate(model, letters, [{ promptIds: [5, 6], seed: 11 }], options)[0];
    const batched = generate(
      model,
      letters,
      [
        { promptIds: [1, 2, 3, 4, 7, 8], seed: 10 },
        { promptIds: [5, 6], seed: 11 },
      ],
      options,
    );
    expect(batched[1].tokens).toEqual(alone.tokens);
    batched[1].logProbs.forEach((lp, i) => expect(lp).toBeCloseTo(alone.logProbs[i], 4));
  });

  it('is reproducible by seed and varies across seeds', () => {
    const run = (seed: number) =>
      generate(model, letters, [{ promptIds: [1, 2], seed }], { temperature: 1.5, maxTokens: 12 })[0].tokens;
    expect(run(4)).toEqual(run(4));
    expect(new Set([1, 2, 3, 4, 5, 6].map((s) => run(s).join(','))).size).toBeGreaterThan(1);
  });

  it('reports log-probs equal to a full forward pass at the sampling temperature', () => {
    const prompt = [4, 9, 1];
    const [out] = generate(model, letters, [{ promptIds: prompt, seed: 2 }], {
      temperature: 0.7,
      maxTokens: 5,
    });
    const sequence = [...prompt, ...out.tokens];
    const logProbs = model
      .sequenceLogProbs(
        tf.tensor2d([sequence.slice(0, -1)], [1, sequence.length - 1], 'int32'),
        tf.tensor2d([sequence.slice(1)], [1, sequence.length - 1], 'int32'),
        { temperature: 0.7 },
      )
      .logProbs.dataSync();
    out.logProbs.forEach((lp, i) => expect(lp).toBeCloseTo(logProbs[prompt.length - 1 + i], 4));
  });

  it('stops on stop strings and stop tokens, and flags truncation at max tokens', () => {
    const [free] = generate(model, letters, [{ promptIds: [1], seed: 5 }], { temperature: 0, maxTokens: 10 });
    expect(free.truncated).toBe(true);
    expect(free.finishReason).toBe('length');
    expect(free.tokens).toHaveLength(10);
    const stopText = free.text.slice(3, 5);
    const [stopped] = generate(model, letters, [{ promptIds: [1], seed: 5 }], {
      temperature: 0,
      maxTokens: 10,
      stop: [stopText],
    });
    expect(stopped.finishReason).toBe('stop');
    expect(stopped.truncated).toBe(false);
    expect(stopped.text).toBe(free.text.slice(0, free.text.indexOf(stopText)));
    const [byToken] = generate(model, letters, [{ promptIds: [1], seed: 5 }], {
      temperature: 0,
      maxTokens: 10,
      stopTokenIds: [free.tokens[2]],
    });
    expect(byToken.tokens).toEqual(free.tokens.slice(0, free.tokens.indexOf(free.tokens[2]) + 1));
  });

  it('never runs past the context and refuses prompts that fill it', () => {
    const [out] = generate(model, letters, [{ promptIds: new Array(30).fill(1), seed: 1 }], {
      temperature: 0,
      maxTokens: 50,
    });
    expect(out.tokens).toHaveLength(2);
    expect(out.truncated).toBe(true);
    expect(() =>
      generate(model, letters, [{ promptIds: new Array(32).fill(1), seed: 1 }], { maxTokens: 2 }),
    ).toThrow(/context is 32/);
    expect(() => generate(model, letters, [{ promptIds: [1], seed: 1 }], { maxTokens: 0 })).toThrow();
  });
});
