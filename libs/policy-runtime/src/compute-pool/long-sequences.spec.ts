import { selectBackend, TransformerPolicy, trainTokenizer, type TokenSequence } from '@recon/policy';
import { ComputePool } from './compute-pool';
import { DataParallelGrpo } from './data-parallel-grpo';
import { DataParallelSft } from './data-parallel-sft';
import { generateOnPool } from './pool-generation';
import { weightArrays } from './weight-arrays';

jest.setTimeout(120_000);

/** Sequences of `length` tokens (below `vocab`), the completion starting at token 20. */
const sequences = (count: number, length: number, vocab: number): TokenSequence[] =>
  Array.from({ length: count }, (_, s) => ({
    tokens: Array.from({ length }, (_, i) => 1 + ((i * 7 + s * 3) % (vocab - 1))),
    completionStart: 20,
  }));

const schedule = { type: 'constant' as const, learningRate: 1e-3, totalSteps: 2 };
let computePool: ComputePool;

beforeAll(async () => {
  await selectBackend('wasm');
  computePool = await ComputePool.start({ workers: 1, backend: 'wasm' });
});

afterAll(async () => {
  await computePool?.close();
});

describe('long sequences on the compute pool (wasm)', () => {
  test('a tiny model with a 2,048-token context trains SFT and GRPO steps and generates at 1,600 tokens', async () => {
    const tokenizer = trainTokenizer({
      corpus: ['a long enough text to learn a few merges from'],
      vocabSize: 300,
    });
    const vocab = tokenizer.vocabSize;
    const config = { vocabSize: vocab, dModel: 32, layers: 1, heads: 4, context: 2048, seed: 3 };
    const model = new TransformerPolicy(config);
    const sft = await DataParallelSft.open(computePool, model, sequences(4, 1601, vocab), {
      batchSize: 4,
      padId: 0,
      maxLength: 2048,
      seed: 1,
      schedule,
    });
    const step = await sft.step();
    expect(step).toMatchObject({ step: 1, sequences: 4, tokens: 4 * (1601 - 20) });
    expect(Number.isFinite(step.loss) && Number.isFinite(step.gradNorm)).toBe(true);
    await sft.close();

    const grpo = await DataParallelGrpo.open(
      computePool,
      model,
      new TransformerPolicy(config),
      { grpo: { numGenerations: 2, beta: 0.04 }, microBatchSize: 4, padId: 0, maxLength: 2048, schedule },
      { maxRows: 4 },
    );
    const groups = [0, 1].map((g) => ({
      promptIds: sequences(1, 40, vocab - 1)[0].tokens.map((t) => t + g),
      completions: sequences(2, 1560, vocab).map((s, c) => ({ completionIds: s.tokens, rewards: { r: c } })),
    }));
    const [metrics] = await grpo.train(groups);
    expect(metrics.completionLength.max).toBe(1560);
    expect(Number.isFinite(metrics.loss) && Number.isFinite(metrics.gradNorm)).toBe(true);
    await grpo.close();

    const policy = {
      key: 'long-context',
      content: () => ({
        model: config,
        weights: weightArrays(model),
        tokenizer: tokenizer.toJSON(),
      }),
    };
    const completions = await generateOnPool(
      computePool,
      policy,
      [0, 1].map((seed) => ({ promptIds: sequences(1, 40, vocab)[0].tokens, seed })),
      { temperature: 1, maxTokens: 1600 },
    );
    expect(completions.map((c) => [c.tokens.length, c.finishReason])).toEqual([
      [1600, 'length'],
      [1600, 'length'],
    ]);
    model.dispose();
    expect(computePool.broken).toBeNull();
  });

  test('a pass too large for the wasm heap is refused before it runs, naming the step and the memory; the pool goes on', async () => {
    const config = { vocabSize: 4096, dModel: 32, layers: 1, heads: 4, context: 2048, seed: 3 };
    const model = new TransformerPolicy(config);
    const sft = await DataParallelSft.open(computePool, model, sequences(64, 2048, 4096), {
      batchSize: 64,
      padId: 0,
      maxLength: 2048,
      seed: 1,
      schedule,
    });
    await expect(sft.step()).rejects.toThrow(
      /^policy compute worker 0: SFT step 1, micro-batch 0 \(32 sequences of 2047 tokens\) would need about \d+\.\d GB of the wasm backend's heap, whose limit is 4\.3 GB: lower the batch/,
    );
    await sft.close();
    model.dispose();
    expect(computePool.broken).toBeNull();
    expect(await computePool.request(0, { kind: 'memory' })).toMatchObject({ tensors: expect.any(Number) });
  });
});
