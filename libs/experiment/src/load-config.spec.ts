import { ConfigError, parseExperimentConfig } from './index';

const valid = `
name: recon-mini
seed: 7
datasets:
  curriculum:
    style: compact
    trainItems: 500
policy:
  kind: builtin
  dModel: 128
sft:
  steps: 100
grpo:
  steps: 20
  lossType: dr_grpo
rewards:
  - id: recon-hierarchical
    weight: 1
`;

describe('experiment config', () => {
  it('parses a config and fills the paper defaults', () => {
    const config = parseExperimentConfig(valid, 'recon-mini.yaml');
    expect(config.seed).toBe(7);
    expect(config.policy).toMatchObject({ kind: 'builtin', dModel: 128, nLayers: 4 });
    expect(config.sft).toMatchObject({
      steps: 100,
      learningRate: 2e-4,
      schedule: 'linear',
      warmupSteps: 5,
      weightDecay: 0.01,
    });
    expect(config.grpo).toMatchObject({
      numGenerations: 8,
      learningRate: 5e-6,
      schedule: 'cosine',
      warmupRatio: 0.1,
      adamBetas: [0.9, 0.99],
      weightDecay: 0.1,
      maxGradNorm: 0.1,
      lossType: 'dr_grpo',
    });
  });

  const failure = (text: string) => {
    try {
      parseExperimentConfig(text, 'bad.yaml');
    } catch (error) {
      return error as ConfigError;
    }
    throw new Error('expected a ConfigError');
  };

  it('names the key and the line of a wrong value', () => {
    const error = failure(valid.replace('  lossType: dr_grpo', '  lossType: ppo'));
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toMatch(/^bad\.yaml:15: 'grpo\.lossType': /);
  });

  it('names an unknown key and where it is', () => {
    const error = failure(valid.replace('  dModel: 128', '  dModel: 128\n  dmodel: 64'));
    expect(error.message).toMatch(/^bad\.yaml:9: 'policy': unknown key\(s\) 'dmodel'/);
  });

  it('reports YAML syntax errors with their line, and a missing dataset source', () => {
    expect(failure('name: x\npolicy: [unclosed\n').message).toMatch(/^bad\.yaml:\d+: invalid YAML/);
    expect(failure('name: x\ndatasets: {}\npolicy: {kind: builtin}\n').message).toMatch(
      /bad\.yaml:2: 'datasets': name at least one dataset source/,
    );
    expect(failure('name: x\nname: y\n').message).toMatch(/invalid YAML/);
  });
});
