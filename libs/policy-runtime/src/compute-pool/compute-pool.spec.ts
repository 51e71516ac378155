import { monitorEventLoopDelay } from 'node:perf_hooks';
import * as tf from '@tensorflow/tfjs-core';
import {
  ByteBpeTokenizer,
  generate,
  GrpoTrainer,
  selectBackend,
  SftTrainer,
  type GrpoTrainerConfigInput,
  type RolloutGroup,
  trainTokenizer,
  TransformerPolicy,
  type SftTrainerConfigInput,
  type TokenSequence,
} from '@recon/policy';
import { ComputePool } from './compute-pool';
import { DataParallelGrpo } from './data-parallel-grpo';
import { DataParallelSft } from './data-parallel-sft';
import { generateOnPool } from './pool-generation';
import type { WeightArrays } from './protocol';
import { weightArrays } from './weight-arrays';

jest.setTimeout(120_000);

const BACKEND = 'wasm';
const modelConfig = { vocabSize: 40, dModel: 16, layers: 1, heads: 2, context: 24, seed: 5 };
const trainerConfig: SftTrainerConfigInput = {
  batchSize: 6,
  gradientAccumulationSteps: 2,
  maxGradNorm: 1,
  padId: 0,
  maxLength: 24,
  seed: 11,
  schedule: { type: 'cosine', learningRate: 0.01, totalSteps: 10, warmupSteps: 1 },
  optimizer: { weightDecay: 0.01 },
};

/** Sequences of varied length whose completions follow a rule, so the loss falls. */
function examples(count: number): TokenSequence[] {
  return Array.from({ length: count }, (_, i) => {
    const prompt = Array.from({ length: 3 + (i % 5) }, (_, j) => 1 + ((i * 7 + j * 3) % 30));
    const completion = prompt.slice(0, 2 + (i % 4)).map((t) => 1 + ((t + 5) % 38));
    return { tokens: [...prompt, ...completion], completionStart: prompt.length };
  });
}

const data = examples(48);
const pools: ComputePool[] = [];
async function pool(workers: number): Promise<ComputePool> {
  const started = await ComputePool.start({ workers, backend: BACKEND });
  pools.push(started);
  return started;
}

beforeAll(async () => {
  await selectBackend(BACKEND);
});

afterAll(async () => {
  await Promise.all(pools.map((p) => p.close()));
});

async function trainOnPool(workers: number, steps: number, config: SftTrainerConfigInput) {
  const computePool = await pool(workers);
  const model = new TransformerPolicy(modelConfig);
  const sft = await DataParallelSft.open(computePool, model, data, config);
  const metrics = [];
  for (let i = 0; i < steps; i++) metrics.push(await sft.step());
  const state = await sft.state();
  await sft.close();
  model.dispose();
  return { metrics, state, computePool };
}

/** The model's weights are bit-identical to a worker replica's. */
function expectWeightsEqual(model: TransformerPolicy, weights: WeightArrays) {
  for (const [name, variable] of model.namedWeights())
    expect(
      Buffer.from((variable.dataSync() as Float32Array).buffer).equals(
        Buffer.from(weights[name].values.buffer),
      ),
    ).toBe(true);
}

describe('ComputePool', () => {
  test.each(['contiguous', 'balanced'] as const)(
    'SFT on 1 and 2 workers gives bit-identical weights, optimiser state and metrics (%s parts)',
    async (partition) => {
      const config: SftTrainerConfigInput = { ...trainerConfig, partition, lengthGroupWindow: 2 };
      const one = await trainOnPool(1, 4, config);
      const two = await trainOnPool(2, 4, config);
      expect(two.metrics.map((m) => [m.loss, m.gradNorm, m.tokens])).toEqual(
        one.metrics.map((m) => [m.loss, m.gradNorm, m.tokens]),
      );
      expect(one.metrics[3].loss).toBeLessThan(one.metrics[0].loss);
      for (const [name, { values }] of Object.entries(one.state.weights))
        expect(Buffer.from(two.state.weights[name].values.buffer).equals(Buffer.from(values.buffer))).toBe(
          true,
        );
      expect(two.state.trainer.optimizer.step).toBe(4);
      for (const [name, { m, v }] of Object.entries(one.state.trainer.optimizer.moments)) {
        expect(
          Buffer.from(two.state.trainer.optimizer.moments[name].m.buffer).equals(Buffer.from(m.buffer)),
        ).toBe(true);
        expect(
          Buffer.from(two.state.trainer.optimizer.moments[name].v.buffer).equals(Buffer.from(v.buffer)),
        ).toBe(true);
      }
      expect(two.state.trainer.dataPosition).toEqual(one.state.trainer.dataPosition);

      // ... and both equal one in-process trainer doing the same split sequentially.
      const model = new TransformerPolicy(modelConfig);
      const trainer = new SftTrainer(model, data, config);
      for (let i = 0; i < 4; i++) trainer.trainStep(2);
      expectWeightsEqual(model, one.state.weights);
      trainer.dispose();
      model.dispose();

      // No tensor is left behind in the workers once the session is closed.
      const memory = await two.computePool.broadcast(() => ({ kind: 'memory' as const }));
      const base = await (await pool(1)).request(0, { kind: 'memory' });
      for (const m of memory) expect(m.tensors).toBe(base.tensors);
    },
  );

  test.each(['contiguous', 'balanced'] as const)(
    'GRPO on 1 and 2 workers gives bit-identical weights and metrics, equal to one trainer in-process (%s parts)',
    async (partition) => {
      const grpoConfig: GrpoTrainerConfigInput = {
        partition,
        grpo: { numGenerations: 4, beta: 0.04, numIterations: 2, lossType: 'dapo', maxCompletionLength: 8 },
        microBatchSize: 8,
        maxGradNorm: 1,
        padId: 0,
        maxLength: 24,
        schedule: { type: 'constant', learningRate: 0.001, totalSteps: 4 },
      };
      const batches: RolloutGroup[][] = [0, 1].map((b) =>
        [0, 1].map((g) => ({
          promptIds: [1 + b, 2 + g, 3, 4 + g],
          completions: Array.from({ length: 4 }, (_, c) => ({
            completionIds: Array.from(
              { length: 2 + ((b + g + c) % 5) },
              (_, t) => 1 + ((t * 3 + c + g) % 30),
            ),
            rewards: { r: (c * 7 + g + b) % 3 },
          })),
        })),
      );
      const onPool = async (workers: number) => {
        const computePool = await pool(workers);
        const model = new TransformerPolicy(modelConfig);
        const reference = new TransformerPolicy(modelConfig);
        const trainer = await DataParallelGrpo.open(computePool, model, reference, grpoConfig, {
          maxRows: 8,
        });
        const metrics = [];
        for (const groups of batches) metrics.push(...(await trainer.train(groups)));
        const state = await trainer.state();
        await trainer.close();
        model.dispose();
        reference.dispose();
        return { metrics: metrics.map(({ stepTimeMs: _t, ...m }) => m), state };
      };
      const one = await onPool(1);
      const two = await onPool(2);
      expect(two.metrics).toEqual(one.metrics);
      expect(one.metrics).toHaveLength(4);
      for (const [name, { values }] of Object.entries(one.state.weights))
        expect(Buffer.from(two.state.weights[name].values.buffer).equals(Buffer.from(values.buffer))).toBe(
          true,
        );

      const model = new TransformerPolicy(modelConfig);
      const reference = new TransformerPolicy(modelConfig);
      const trainer = new GrpoTrainer(model, reference, grpoConfig);
      const local = batches
        .flatMap((groups) => trainer.train(groups, 2))
        .map(({ stepTimeMs: _t, ...m }) => m);
      expect(local).toEqual(one.metrics);
      expectWeightsEqual(model, one.state.weights);
      trainer.dispose();
      model.dispose();
      reference.dispose();
    },
  );

  test('generation split across workers gives the completions of one worker and of one batch', async () => {
    const tokenizer = trainTokenizer({
      corpus: ['abc abd abe bcd', 'the cat sat', 'a b c d e f'],
      vocabSize: 300,
    });
    const model = new TransformerPolicy({ ...modelConfig, vocabSize: tokenizer.vocabSize, context: 40 });
    const requests = Array.from({ length: 7 }, (_, i) => ({
      promptIds: tokenizer.encode(['abc', 'the cat', 'a b c d', 'bcd abe'][i % 4]),
      seed: 100 + i,
    }));
    const options = { temperature: 1, maxTokens: 12 };
    const policy = {
      key: 'tiny',
      content: () => ({ model: model.config, weights: weightArrays(model), tokenizer: tokenizer.toJSON() }),
    };
    const one = await generateOnPool(await pool(1), policy, requests, options);
    const twoWorkers = await pool(2);
    const two = await generateOnPool(twoWorkers, policy, requests, options);
    const again = await generateOnPool(twoWorkers, policy, requests, options); // the workers hold the policy now
    expect(two).toEqual(one);
    expect(again).toEqual(one);
    // Concurrent calls for a policy the workers do not hold yet (its content arrives late): the parts that
    // carry it reach each worker first.
    const late = {
      key: 'tiny-late',
      content: async () => {
        await new Promise((done) => setTimeout(done, 50));
        return policy.content();
      },
    };
    const [first, second] = await Promise.all([
      generateOnPool(twoWorkers, late, requests, options),
      generateOnPool(twoWorkers, late, requests, options),
    ]);
    expect(first).toEqual(one);
    expect(second).toEqual(one);
    expect(one.map((c) => c.tokens)).toEqual(
      generate(model, tokenizer, requests, options).map((c) => c.tokens),
    );
    expect(ByteBpeTokenizer.fromJSON(tokenizer.toJSON()).contentHash).toBe(tokenizer.contentHash);
    model.dispose();
  });

  test('the main event loop keeps answering while the workers train', async () => {
    const computePool = await pool(2);
    const model = new TransformerPolicy({ ...modelConfig, dModel: 32, context: 24 });
    const sft = await DataParallelSft.open(computePool, model, data, { ...trainerConfig, batchSize: 16 });
    const lag = monitorEventLoopDelay({ resolution: 5 });
    lag.enable();
    const started = performance.now();
    let ticks = 0;
    const timer = setInterval(() => ticks++, 10);
    let steps = 0;
    while (performance.now() - started < 1500) {
      await sft.step();
      steps++;
    }
    clearInterval(timer);
    lag.disable();
    await sft.close();
    model.dispose();
    expect(steps).toBeGreaterThan(0);
    expect(ticks).toBeGreaterThan(50);
    expect(lag.percentile(99) / 1e6).toBeLessThan(100);
  });

  test('a worker that throws fails the request with an error naming it', async () => {
    const computePool = await pool(2);
    const model = new TransformerPolicy(modelConfig);
    await expect(
      DataParallelSft.open(computePool, model, data, { ...trainerConfig, padId: -1 }),
    ).rejects.toThrow(/policy compute worker [01]: .*padId/);
    expect(computePool.broken).toBeNull(); // a failed request leaves the pool usable
    model.dispose();
  });

  test('a worker that dies fails the step in flight and the pool, naming the worker', async () => {
    const computePool = await pool(2);
    const model = new TransformerPolicy(modelConfig);
    const sft = await DataParallelSft.open(computePool, model, data, trainerConfig);
    await sft.step();
    const step = sft.step();
    await computePool.terminateWorker(1);
    await expect(step).rejects.toThrow(/policy compute worker 1 exited unexpectedly/);
    await expect(sft.step()).rejects.toThrow(/policy compute worker 1/);
    expect(computePool.broken?.message).toMatch(/worker 1/);
    model.dispose();
  });

  test('main thread holds no tensors for the pool', () => {
    expect(tf.memory().numTensors).toBe(0);
  });
});
