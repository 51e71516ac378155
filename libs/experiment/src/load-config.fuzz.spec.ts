import fc from 'fast-check';
import { stringify } from 'yaml';
import { ConfigError, parseExperimentConfig } from './index';

const RUNS = 2000;

function load(text: string): void {
  try {
    parseExperimentConfig(text, 'fuzz.yaml');
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(/^fuzz\.yaml(:\d+)?: /);
  }
}

describe('config loader under generated malformed input', () => {
  it(`answers ${RUNS} arbitrary texts with a config or a ConfigError`, () => {
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 400 }), load), { numRuns: RUNS });
  });

  it(`answers ${RUNS} arbitrary YAML documents with a config or a ConfigError naming file and line`, () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => load(stringify(value))),
      { numRuns: RUNS },
    );
  });

  it(`answers ${RUNS} near-valid configs with one key changed`, () => {
    const base = {
      name: 'x',
      datasets: { curriculum: { trainItems: 10 } },
      policy: { kind: 'builtin' },
      sft: { steps: 1 },
    };
    fc.assert(
      fc.property(
        fc.constantFrom('name', 'datasets', 'policy', 'sft', 'seed', 'grpo', 'extra'),
        fc.jsonValue(),
        (key, value) => load(stringify({ ...base, [key]: value })),
      ),
      { numRuns: RUNS },
    );
  });
});
