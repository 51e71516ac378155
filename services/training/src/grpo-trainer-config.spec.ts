import { parseExperimentConfig } from '@recon/experiment';
import { GrpoTrainer, selectBackend, TransformerPolicy, type RolloutGroup } from '@recon/policy';
import { ComputePool, DataParallelGrpo } from '@recon/policy-runtime';
import { grpoTrainerConfig } from './grpo-trainer-config';

jest.setTimeout(120_000);

const experiment = (grpo: string) =>
  parseExperimentConfig(
    `name: t\ndatasets: { curriculum: {} }\npolicy: { kind: builtin }\ngrpo: { promptsPerStep: 2, numGenerations: 4, beta: 0.04, lossType: grpo, maxCompletionTokens: 8, maxGradNorm: 1, learningRate: 0.001, schedule: constant, warmupRatio: 0${grpo} }\n`,
  );
const modelConfig = { vocabSize: 40, dModel: 16, layers: 1, heads: 2, context: 24, seed: 5 };
const groups: RolloutGroup[] = [0, 1].map((g) => ({
  promptIds: [1, 2 + g, 3, 4 + g],
  completions: Array.from({ length: 4 }, (_, c) => ({
    completionIds: Array.from({ length: 2 + ((g + c) % 5) }, (_, t) => 1 + ((t * 3 + c + g) % 30)),
    rewards: { 'recon-hierarchical': (c * 7 + g) % 3 },
  })),
}));

describe('grpo.gradientAccumulation', () => {
  beforeAll(async () => {
    await selectBackend('wasm');
  });

  it("cuts a step's completions into that many micro-batches (the paper's 8 x 4 by default)", () => {
    expect(grpoTrainerConfig(experiment(''), { padId: 0, context: 24 }).microBatchSize).toBe(2);
    expect(
      grpoTrainerConfig(experiment(', gradientAccumulation: 2'), { padId: 0, context: 24 }).microBatchSize,
    ).toBe(4);
    expect(
      grpoTrainerConfig(experiment(', gradientAccumulation: 1'), { padId: 0, context: 24 }).microBatchSize,
    ).toBe(8);
    expect(() => experiment(', gradientAccumulation: 3')).toThrow(
      /'grpo\.gradientAccumulation': 3 does not divide promptsPerStep x numGenerations = 8/,
    );
  });

  it('sums the micro-batches on the compute pool bit-identically to one trainer in-process', async () => {
    const config = grpoTrainerConfig(experiment(', gradientAccumulation: 2'), { padId: 0, context: 24 });
    const pool = await ComputePool.start({ workers: 2, backend: 'wasm' });
    try {
      const model = new TransformerPolicy(modelConfig);
      const reference = new TransformerPolicy(modelConfig);
      const trainer = await DataParallelGrpo.open(pool, model, reference, config, { maxRows: 8 });
      const onPool = (await trainer.train(groups)).map(({ stepTimeMs: _t, ...m }) => m);
      const state = await trainer.state();
      await trainer.close();

      const local = new GrpoTrainer(model, reference, config);
      // 2 micro-batches of 4 completions, each cut in the pool's 2 parts.
      expect(local.planStep(groups, 2).microBatches).toEqual([
        [0, 1],
        [2, 3],
        [4, 5],
        [6, 7],
      ]);
      expect(local.train(groups, 2).map(({ stepTimeMs: _t, ...m }) => m)).toEqual(onPool);
      for (const [name, variable] of model.namedWeights())
        expect(
          Buffer.from((variable.dataSync() as Float32Array).buffer).equals(
            Buffer.from(state.weights[name].values.buffer),
          ),
        ).toBe(true);
      local.dispose();
      model.dispose();
      reference.dispose();
    } finally {
      await pool.close();
    }
  });
});
