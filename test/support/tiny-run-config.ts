import { stringify } from 'yaml';

type Section = Record<string, unknown>;

/** A tiny run's config sections; each given section is merged over the default one, key by key. */
export interface TinyRunOverrides {
  name?: string;
  seed?: number;
  datasets?: { curriculum?: Section };
  policy?: Section;
  tokenizer?: Section;
  /** null: no SFT stage. */
  sft?: Section | null;
  /** null: no GRPO stage. */
  grpo?: Section | null;
  rewards?: Section[];
  /** Replaces the default evaluation whole (its sections differ too much to merge). */
  evaluation?: Section;
}

const DEFAULTS = {
  name: 'tiny',
  seed: 7,
  curriculum: { trainItems: 100, testItems: 20 },
  policy: { kind: 'builtin', dModel: 32, nLayers: 1, nHeads: 2, contextLength: 256, backend: 'wasm' },
  tokenizer: { vocabSize: 380 },
  sft: { steps: 3, batchSize: 8, learningRate: 0.003 },
  grpo: {
    steps: 2,
    promptsPerStep: 2,
    numGenerations: 4,
    learningRate: 0.0002,
    beta: 0.04,
    maxCompletionTokens: 16,
    maxGradNorm: 1.0,
  },
  evaluation: { stages: ['grpo'], maxNewTokens: 8, heldOut: { items: 5 } },
};

/**
 * The YAML of a run small enough for a test: a one-layer policy on a 100-item curriculum, a few SFT and GRPO
 * steps, a short evaluation. Tests name only what their scenario needs, e.g.
 * `tinyRunConfig({ name: 'parent', seed: 21, grpo: { steps: 3 } })`; the text is what `recon run <file>`
 * reads, and `parseExperimentConfig(tinyRunConfig(...))` gives the config for an embedded deployment.
 */
export function tinyRunConfig(overrides: TinyRunOverrides = {}): string {
  const stage = (section: Section | null | undefined, defaults: Section) =>
    section === null ? undefined : { ...defaults, ...section };
  const config = {
    name: overrides.name ?? DEFAULTS.name,
    seed: overrides.seed ?? DEFAULTS.seed,
    datasets: { curriculum: { ...DEFAULTS.curriculum, ...overrides.datasets?.curriculum } },
    policy: { ...DEFAULTS.policy, ...overrides.policy },
    tokenizer: { ...DEFAULTS.tokenizer, ...overrides.tokenizer },
    sft: stage(overrides.sft, DEFAULTS.sft),
    grpo: stage(overrides.grpo, DEFAULTS.grpo),
    ...(overrides.rewards ? { rewards: overrides.rewards } : {}),
    evaluation: overrides.evaluation ?? DEFAULTS.evaluation,
  };
  return stringify(config);
}
