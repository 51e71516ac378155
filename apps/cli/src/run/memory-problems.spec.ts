import { parseExperimentConfig } from '@recon/experiment';
import { configProblems } from './check-experiment';
import { memoryProblems, pretrainedMemoryProblems } from './memory-problems';

/** A built-in policy at the paper's 6,144-token context; each test changes the batch. */
const config = (policy: string, sections: string) =>
  parseExperimentConfig(
    `name: t
datasets: { curriculum: { trainItems: 10, testItems: 4 } }
policy: { kind: builtin, dModel: 64, nLayers: 3, nHeads: 4, contextLength: 6144, ${policy} }
tokenizer: { vocabSize: 1024 }
${sections}
evaluation: { stages: [untrained, sft, grpo] }`,
  );

const SMALL = `sft: { batchSize: 2 }
grpo: { promptsPerStep: 4, numGenerations: 4, gradientAccumulation: 8 }`;

describe('memoryProblems', () => {
  it('lets batches that fit the wasm heap at the 6,144-token context through', () => {
    expect(configProblems(config('backend: wasm', SMALL))).toEqual([]);
    expect(configProblems(config('backend: wasm-openblas', SMALL))).toEqual([]);
  });

  it('refuses an SFT batch whose pass exceeds the wasm heap, naming the keys, the need and the limit', () => {
    const problems = memoryProblems(config('backend: wasm', 'sft: { batchSize: 16 }'));
    expect(problems).toEqual([
      {
        key: 'sft.batchSize',
        reason: expect.stringMatching(
          /^16 at policy.contextLength 6144: a pass over 8 sequences of up to 6144 tokens needs about \d+\.\d GB of the wasm backend's heap, whose limit is 4\.3 GB; lower sft.batchSize \(raise sft.gradientAccumulation to keep the step size\) or policy.contextLength$/,
        ),
      },
    ]);
  });

  it('refuses GRPO micro-batches and rollout batches that exceed it, naming what to raise', () => {
    const problems = memoryProblems(
      config(
        'backend: wasm-openblas',
        'grpo: { promptsPerStep: 8, numGenerations: 8, gradientAccumulation: 1 }',
      ),
    );
    expect(problems.map((p) => p.key)).toEqual(['grpo.gradientAccumulation']);
    expect(problems[0].reason).toContain('1 micro-batches of grpo.promptsPerStep x grpo.numGenerations = 64');
    expect(problems[0].reason).toContain('a pass over 32 sequences');
    expect(problems[0].reason).toContain('raise grpo.gradientAccumulation');
    // Prompts of up to 5,144 tokens (the context less the completion budget), 32 per rollout batch.
    const generation = memoryProblems(
      config(
        'backend: wasm',
        'grpo: { promptsPerStep: 8, numGenerations: 8, gradientAccumulation: 64, maxCompletionTokens: 1000 }',
      ),
    );
    expect(generation).toEqual([
      { key: 'grpo.rolloutShards', reason: expect.stringContaining('a rollout batch of 32 completions') },
    ]);
    expect(generation[0].reason).toContain('raise grpo.rolloutShards');
  });

  it('applies to auto only where no native TensorFlow package would be chosen', () => {
    const big = config('backend: auto', 'sft: { batchSize: 16 }');
    for (const blasLoads of [false, true])
      expect(
        memoryProblems(big, { nativeInstalled: () => false, blasLoads: () => blasLoads }).map(
          (p) => p.reason,
        ),
      ).toEqual([expect.stringContaining(`of the ${blasLoads ? 'wasm-openblas' : 'wasm'} backend's heap`)]);
    expect(memoryProblems(big, { nativeInstalled: () => true, blasLoads: () => true })).toEqual([]);
    expect(memoryProblems(config('backend: cpu', 'sft: { batchSize: 16 }'))).toEqual([]);
  });
});

describe('pretrainedMemoryProblems', () => {
  const policy = (backend: string) =>
    ({
      kind: 'pretrained',
      path: 'x',
      backend,
      lora: { rank: 8, alpha: 16, dropout: 0, targets: ['q_proj'] },
    }) as Parameters<typeof pretrainedMemoryProblems>[0];
  const noNative = { nativeInstalled: () => false, blasLoads: () => true };
  // Qwen2.5-7B (7.62B parameters) and Qwen2.5-0.5B (0.49B): float32 weights of 30.5 GB and 2.0 GB.
  it('refuses a checkpoint whose float32 weights exceed the wasm heap, naming the need, the limit and the way out', () => {
    const [problem] = pretrainedMemoryProblems(policy('wasm'), 7.62e9, noNative);
    expect(problem.key).toBe('policy.backend');
    expect(problem.reason).toMatch(/^wasm: the checkpoint's 7\.62B parameters need 30\.5 GB in float32/);
    expect(problem.reason).toMatch(/heap limit of 4\.3 GB; use backend tensorflow-gpu or tensorflow/);
    expect(pretrainedMemoryProblems(policy('auto'), 7.62e9, noNative)[0].reason).toMatch(
      /^auto \(here: wasm-openblas\)/,
    );
  });

  it('lets a checkpoint that fits through, and any on a backend without a heap limit', () => {
    expect(pretrainedMemoryProblems(policy('wasm'), 0.49e9, noNative)).toEqual([]);
    expect(pretrainedMemoryProblems(policy('tensorflow-gpu'), 7.62e9, noNative)).toEqual([]);
    expect(
      pretrainedMemoryProblems(policy('auto'), 7.62e9, { ...noNative, nativeInstalled: () => true }),
    ).toEqual([]);
  });
});
