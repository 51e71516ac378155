import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  loadExperimentConfig,
  parseExperimentConfig,
  presetNames,
  resolveConfigPath,
} from '@recon/experiment';
import { configProblems, dataPathProblems, embeddedRewards, rewardProblems } from './check-experiment';

const config = (sections: string) =>
  parseExperimentConfig(
    `name: t
datasets: { curriculum: { trainItems: 10, testItems: 4 } }
policy: { kind: builtin, dModel: 16, nLayers: 1, nHeads: 2 }
${sections}`,
  );

const TINY_QWEN2 = resolve(__dirname, '../../../../libs/pretrained/fixtures/tiny-qwen2');

const keys = (problems: Array<{ key: string }>) => problems.map((p) => p.key);

describe('configProblems', () => {
  it.each(presetNames())('finds nothing wrong with the bundled preset %s', (name) => {
    const loaded = loadExperimentConfig(resolveConfigPath(name));
    // A pretrained preset names a directory the lab downloads itself: checked here on the tiny fixture.
    const preset =
      loaded.policy.kind === 'pretrained'
        ? { ...loaded, policy: { ...loaded.policy, path: TINY_QWEN2 } }
        : loaded;
    expect(configProblems(preset)).toEqual([]);
    expect(dataPathProblems(preset)).toEqual([]);
    expect(rewardProblems(preset, embeddedRewards([]), [])).toEqual([]);
  });

  it("holds the paper's settings in recon-lab (recon-reference.md), on all of the Recon data", () => {
    const lab = loadExperimentConfig(resolveConfigPath('recon-lab'));
    expect(lab.datasets).toEqual({
      recon: {
        path: '../shared/recon-data',
        sft: 'sft_cot_dataset.csv',
        train: 'train_dataset.csv',
        eval: 'eval_dataset.csv',
      },
    });
    expect(lab.sft).toMatchObject({
      steps: 2700,
      batchSize: 8,
      gradientAccumulation: 1,
      learningRate: 2e-4,
      schedule: 'linear',
      warmupSteps: 5,
      weightDecay: 0.01,
    });
    expect(lab.grpo).toMatchObject({
      steps: 2250,
      promptsPerStep: 4,
      numGenerations: 8,
      // 4 x 8 = 32 completions per optimizer step, cut into the paper's 4 micro-batches of 8.
      gradientAccumulation: 4,
      learningRate: 5e-6,
      schedule: 'cosine',
      warmupRatio: 0.1,
      adamBetas: [0.9, 0.99],
      weightDecay: 0.1,
      maxGradNorm: 0.1,
      lossType: 'grpo',
    });
    expect(lab.rewards).toEqual([{ id: 'recon-hierarchical', weight: 1 }]);
    expect(lab.evaluation).toMatchObject({
      stages: ['untrained', 'sft', 'grpo'],
      maxNewTokens: 6144,
      reconEval: { temperature: 0 },
      completeInformation: { trials: 20, temperature: 0.6 },
      gtbench: { matches: 10, temperature: 0.6, opponents: ['random', 'mcts'] },
    });
    // All of Recon-Eval and all ten GTBench games, free-form.
    expect(lab.evaluation.reconEval?.items).toBeUndefined();
    expect(lab.evaluation.heldOut).toBeUndefined();
    expect(lab.evaluation.gtbench?.games).toBeUndefined();
    expect(lab.evaluation.gtbench?.decoding).toBeUndefined();
    // The context holds the longest Recon prompt (1,889 characters, so at most as many tokens) and 6,144 more.
    if (lab.policy.kind !== 'builtin') throw new Error('recon-lab trains the built-in policy');
    expect(lab.policy.contextLength).toBeGreaterThanOrEqual(6144 + 1889 + 64);
    expect(lab.grpo!.maxCompletionTokens).toBe(6144);
    // Its GPU backend is what lets it pass the memory check: on a wasm heap every pass would abort.
    expect(lab.policy.backend).toBe('tensorflow-gpu');
    expect(keys(configProblems({ ...lab, policy: { ...lab.policy, backend: 'wasm' } }))).toEqual([
      'sft.batchSize',
      'grpo.gradientAccumulation',
      'grpo.rolloutShards',
    ]);
  });

  it("holds the paper's LoRA SFT and GRPO settings in recon-qwen-lora, and names its checkpoint directory until it exists", () => {
    const preset = loadExperimentConfig(resolveConfigPath('recon-qwen-lora'));
    expect(preset.policy).toMatchObject({ kind: 'pretrained', lora: { rank: 8 }, context: 8192 });
    expect(preset.sft).toMatchObject({ steps: 2700, batchSize: 8, learningRate: 0.0002, warmupSteps: 5 });
    expect(preset.grpo).toMatchObject({
      steps: 2250,
      numGenerations: 8,
      promptsPerStep: 4,
      gradientAccumulation: 4,
      learningRate: 0.000005,
      schedule: 'cosine',
      adamBetas: [0.9, 0.99],
      maxGradNorm: 0.1,
    });
    expect(configProblems(preset)).toEqual([
      {
        key: 'policy.path',
        reason: expect.stringMatching(/DeepSeek-R1-Distill-Qwen-7B\/config\.json: file not found/),
      },
    ]);
  });

  it('names heads that do not divide dModel, a too small vocabulary and unknown categories', () => {
    const problems = configProblems(
      parseExperimentConfig(`name: t
datasets: { curriculum: { categories: [pure_nash, nash_pure, bayes] } }
policy: { kind: builtin, dModel: 64, nHeads: 5 }
tokenizer: { vocabSize: 263 }
`),
    );
    expect(problems).toEqual([
      {
        key: 'datasets.curriculum.categories',
        reason: expect.stringMatching(/^unknown categories 'nash_pure', 'bayes'; known: pure_nash, /),
      },
      { key: 'policy.nHeads', reason: expect.stringContaining('5 does not divide policy.dModel 64') },
      { key: 'tokenizer.vocabSize', reason: expect.stringContaining('263 is below 264') },
    ]);
    expect(
      configProblems(config('tokenizer: { vocabSize: 264 }\nevaluation: { stages: [untrained] }')),
    ).toEqual([]);
  });

  // Sections present → which evaluation.stages are refused (a run ends once its listed, trained stages are evaluated).
  it.each([
    ['', '[untrained]', []],
    ['', '[untrained, sft, grpo]', []],
    ['', '[grpo]', ['evaluation.stages']],
    ['sft: { steps: 1 }', '[untrained, sft, grpo]', []],
    ['sft: { steps: 1 }', '[sft]', []],
    ['sft: { steps: 1 }', '[untrained]', ['evaluation.stages']],
    ['sft: { steps: 1 }', '[grpo]', ['evaluation.stages']],
    ['sft: { steps: 1 }\ngrpo: { steps: 1 }', '[grpo]', []],
    ['sft: { steps: 1 }\ngrpo: { steps: 1 }', '[untrained]', ['evaluation.stages']],
    ['sft: { steps: 1 }\ngrpo: { steps: 1 }', '[untrained, sft]', ['evaluation.stages']],
    ['grpo: { steps: 1 }', '[untrained, grpo]', []],
    ['grpo: { steps: 1 }', '[sft]', ['evaluation.stages']],
  ])('with %j, stages %s: problems at %j', (sections, stages, expected) => {
    expect(keys(configProblems(config(`${sections}\nevaluation: { stages: ${stages} }`)))).toEqual(expected);
  });

  it('says that stages [untrained] with sft and grpo would never train, and how to evaluate the untrained policy alone', () => {
    const [problem] = configProblems(
      config('sft: { steps: 1 }\ngrpo: { steps: 1 }\nevaluation: { stages: [untrained] }'),
    );
    expect(problem.reason).toBe(
      "[untrained] ends the run once the untrained policy is evaluated, so the configured sft and grpo would never train: add 'grpo' to evaluation.stages, or remove the sft and grpo sections to evaluate the untrained policy alone",
    );
  });

  it('asks a fork for a grpo section and the grpo stage', () => {
    expect(keys(configProblems(config('evaluation: { stages: [grpo] }'), { fork: true }))).toEqual(['grpo']);
    expect(
      keys(configProblems(config('grpo: { steps: 2 }\nevaluation: { stages: [sft] }'), { fork: true })),
    ).toEqual(['evaluation.stages']);
    expect(
      configProblems(config('grpo: { steps: 2 }\nevaluation: { stages: [grpo] }'), { fork: true }),
    ).toEqual([]);
  });
});

describe('dataPathProblems', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'recon-data-'));
    writeFileSync(join(dir, 'eval_dataset.csv'), '');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const recon = (datasets: string) =>
    parseExperimentConfig(`name: t\ndatasets: ${datasets}\npolicy: { kind: builtin }\n`);

  it('names a missing directory, or each file the data service would import that is missing', () => {
    expect(dataPathProblems(recon(`{ recon: { path: ${join(dir, 'nope')} } }`))).toEqual([
      { key: 'datasets.recon.path', reason: `${join(dir, 'nope')} does not exist` },
    ]);
    expect(keys(dataPathProblems(recon(`{ recon: { path: ${dir} } }`)))).toEqual([
      'datasets.recon.sft',
      'datasets.recon.train',
    ]);
    // With a curriculum beside it, the Recon data's three files are imported all the same.
    expect(
      keys(dataPathProblems(recon(`{ curriculum: {}, recon: { path: ${dir}, train: eval_dataset.csv } }`))),
    ).toEqual(['datasets.recon.sft']);
  });
});

describe('rewardProblems', () => {
  const served = [{ id: 'recon-hierarchical', version: '1.0.0' }];
  const withRewards = (rewards: string, grpo = 'grpo: { steps: 1 }') =>
    config(`${grpo}\nrewards: ${rewards}`);

  it('names a reward GRPO will ask for that nothing serves or has ever registered', () => {
    expect(rewardProblems(withRewards('[{ id: recon-hierarchical }, { id: other }]'), served, [])).toEqual([
      {
        key: 'rewards.1.id',
        reason: expect.stringContaining(
          "no reward service serves 'other': it is not built in (here: recon-hierarchical@1.0.0)",
        ),
      },
    ]);
    // A reward service that registered before (a deployable, maybe restarting) is waited for, as is any version.
    expect(rewardProblems(withRewards('[{ id: other, version: 9.9.9 }]'), served, ['other'])).toEqual([]);
    // Without GRPO nothing asks for a reward.
    expect(rewardProblems(withRewards('[{ id: other }]', ''), served, [])).toEqual([]);
  });

  it('counts the built-in reward as served', () => {
    expect(embeddedRewards([]).map((r) => r.id)).toContain('recon-hierarchical');
  });
});
