import { ConfigError, decodingModes, parseExperimentConfig } from './index';

const config = (games: string) => `
name: decoding
datasets:
  curriculum:
    trainItems: 50
policy:
  kind: builtin
evaluation:
  stages: [untrained]
${games}`;

describe('evaluation game-suite decoding setting', () => {
  it('is absent by default, so a config without it parses exactly as before', () => {
    const parsed = parseExperimentConfig(config('  completeInformation: {}\n  gtbench: {}\n'));
    expect(parsed.evaluation.completeInformation).not.toHaveProperty('decoding');
    expect(parsed.evaluation.gtbench).not.toHaveProperty('decoding');
    expect(decodingModes(parsed.evaluation.gtbench?.decoding)).toEqual(['free']);
  });

  it('accepts free, constrained and both per suite', () => {
    const parsed = parseExperimentConfig(
      config('  completeInformation:\n    decoding: both\n  gtbench:\n    decoding: constrained\n'),
    );
    expect(decodingModes(parsed.evaluation.completeInformation?.decoding)).toEqual(['free', 'constrained']);
    expect(decodingModes(parsed.evaluation.gtbench?.decoding)).toEqual(['constrained']);
    expect(decodingModes('free')).toEqual(['free']);
  });

  it('names the key and line of an unknown mode', () => {
    const text = config('  completeInformation:\n    trials: 2\n  gtbench:\n    decoding: json-schema\n');
    let error: unknown;
    try {
      parseExperimentConfig(text, 'bad.yaml');
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).key).toBe('evaluation.gtbench.decoding');
    expect((error as ConfigError).message).toMatch(/^bad\.yaml:13: 'evaluation\.gtbench\.decoding': .*"free"\|"constrained"\|"both"/);
  });
});
