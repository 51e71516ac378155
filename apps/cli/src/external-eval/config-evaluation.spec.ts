import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadExperimentConfig } from '@recon/experiment';
import { externalEvaluationFromConfig } from './config-evaluation';

describe('externalEvaluationFromConfig: recon run with policy.kind openai', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'recon-ext-config-'));
    mkdirSync(join(dir, 'data'));
    writeFileSync(join(dir, 'data', 'eval_dataset.csv'), 'unused by these tests\n');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const BASE = `name: ext
seed: 9
datasets:
  recon: { path: DATA }
policy:
  kind: openai
  baseUrl: http://127.0.0.1:8000/v1/
  model: qwen
  concurrency: 2
`;
  const plan = (yaml: string, env: NodeJS.ProcessEnv = {}) => {
    const file = join(dir, 'config.yaml');
    writeFileSync(file, yaml.replace('DATA', join(dir, 'data')));
    const config = loadExperimentConfig(file);
    if (config.policy.kind !== 'openai') throw new Error('not an openai config');
    return externalEvaluationFromConfig({ ...config, policy: config.policy }, file, 'ext-1', env);
  };
  const refusal = (yaml: string, env: NodeJS.ProcessEnv = {}): ConfigError => {
    try {
      plan(yaml, env);
    } catch (error) {
      if (error instanceof ConfigError) return error;
      throw error;
    }
    throw new Error('the config was accepted');
  };

  it('evaluates recon-eval, and the games the evaluation section names, with the config settings', () => {
    const request = plan(`${BASE}evaluation:
  maxNewTokens: 64
  heldOut: { items: 5, temperature: 0.2 }
  gtbench: { matches: 2, opponents: [random], invalidPolicy: reask, reasks: 2 }
`);
    expect(request).toEqual({
      evalId: 'ext-1',
      model: {
        baseUrl: 'http://127.0.0.1:8000/v1',
        model: 'qwen',
        apiKey: undefined,
        concurrency: 2,
        retries: 3,
        timeoutMs: 120_000,
        minBackoffMs: 500,
      },
      suites: ['recon-eval', 'gtbench'],
      seed: 9,
      maxTokens: 64,
      reconEval: { file: join(dir, 'data', 'eval_dataset.csv'), limit: 5, temperature: 0.2 },
      completeInfo: { trials: 20, temperature: 0.6, reasks: 5 },
      gtbench: { matches: 2, temperature: 0.6, opponents: ['random'], invalidPolicy: 'reask', reasks: 2 },
    });
  });

  it('sends the API key held by policy.apiKeyEnv, and names the key when the variable is not set', () => {
    const yaml = `${BASE}  apiKeyEnv: EXT_KEY\n`;
    expect(plan(yaml, { EXT_KEY: 'sk-1' }).model.apiKey).toBe('sk-1');
    expect(refusal(yaml).message).toBe(
      `${join(dir, 'config.yaml')}:10: 'policy.apiKeyEnv': the environment variable EXT_KEY is not set`,
    );
  });

  it('refuses training stages, naming the key and its line', () => {
    const error = refusal(`${BASE}sft:\n  steps: 10\n`);
    expect([error.key, error.line]).toEqual(['sft', 10]);
    expect(error.message).toMatch(
      /'sft': policy.kind openai is an external model: it is evaluated, never trained/,
    );
    expect(refusal(`${BASE}grpo: { steps: 3 }\n`).key).toBe('grpo');
  });

  it('refuses what the external path cannot evaluate: generated problems, per-suite budgets, a missing CSV', () => {
    const curriculum = refusal(BASE.replace('recon: { path: DATA }', 'curriculum: { testItems: 5 }'));
    expect([curriculum.key, curriculum.line]).toEqual(['datasets.curriculum', 4]);
    expect(curriculum.message).toMatch(/recon eval --suite complete-info,gtbench/);
    const budget = refusal(
      `${BASE}evaluation:\n  maxNewTokens: 64\n  completeInformation: { maxNewTokens: 32 }\n`,
    );
    expect([budget.key, budget.line]).toEqual(['evaluation.completeInformation.maxNewTokens', 12]);
    const constrained = refusal(`${BASE}evaluation:\n  gtbench: { decoding: both }\n`);
    expect([constrained.key, constrained.line]).toEqual(['evaluation.gtbench.decoding', 11]);
    expect(constrained.message).toMatch(/free-form only/);
    const missing = refusal(BASE.replace('DATA', '/nonexistent/recon-data'));
    expect(missing.key).toBe('datasets.recon.path');
    expect(missing.message).toMatch(/no Recon-Eval file \/nonexistent\/recon-data\/eval_dataset\.csv/);
  });
});
