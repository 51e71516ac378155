/**
 * `npm run test:unit`: the fast tier. The *.spec.ts unit tests that need no database and no long
 * computation; `npm test` runs them all, with the integration suites in test/.
 *
 * Left out:
 * - specs that open a database (found by what they call, so a new one is left out without editing this);
 * - property-based fuzz specs (*.fuzz.spec.ts: thousands of generated cases each);
 * - the specs that train models, generate curricula or play many matches (SLOW below, each over 10 s).
 */
const { readdirSync, readFileSync } = require('node:fs');
const { join } = require('node:path');
const base = require('./jest.config');

const NEEDS_DATABASE = /createScratchPlatform|createTestPlatform|startEmbeddedDeployment|openPlatform\(/;

const SLOW = [
  'libs/econ/src/curriculum/',
  'libs/econ/src/dataset/recon-dataset.spec.ts',
  'libs/econ/src/tagger/tagger.spec.ts',
  'libs/games/src/gtbench/gtbench-games.spec.ts',
  'libs/games/src/opponents/',
  'libs/policy/src/backend/wasm-blas-matmul-kernel.spec.ts',
  'libs/policy/src/backend/wasm-fused-decode.spec.ts',
  'libs/policy/src/model/transformer-training.spec.ts',
  'libs/policy/src/sampling/',
  'libs/policy/src/tensor-leaks.spec.ts',
  'libs/policy/src/training/grpo-trainer.spec.ts',
  'libs/policy/src/training/losses.torch.spec.ts',
  'libs/policy/src/training/properties.spec.ts',
  'libs/policy/src/training/sft-trainer.spec.ts',
  'libs/policy-runtime/src/compute-pool/',
  'libs/policy-runtime/src/policy-checkpoints.spec.ts',
  'libs/pretrained/src/lora-training.spec.ts',
  'libs/pretrained/src/merged-export.spec.ts',
  'libs/pretrained/src/parity.spec.ts',
  'services/evaluation/src/policy-agent.spec.ts',
];

const escape = (path) => path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const databaseSpecs = ['apps', 'libs', 'services']
  .flatMap((dir) => readdirSync(join(__dirname, dir), { recursive: true }).map((file) => join(dir, file)))
  .filter(
    (file) => file.endsWith('.spec.ts') && NEEDS_DATABASE.test(readFileSync(join(__dirname, file), 'utf8')),
  );

module.exports = {
  ...base,
  testMatch: [
    '<rootDir>/apps/**/*.spec.ts',
    '<rootDir>/libs/**/*.spec.ts',
    '<rootDir>/services/**/*.spec.ts',
  ],
  testPathIgnorePatterns: [
    ...base.testPathIgnorePatterns,
    '\\.fuzz\\.spec\\.ts$',
    ...[...SLOW, ...databaseSpecs].map((path) => `<rootDir>/${escape(path)}`),
  ],
};
