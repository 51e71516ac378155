export * from './compute-pool';
export * from './data-parallel-sft';
export * from './pool-generation';
export type { PolicyContent, WeightArrays } from './protocol';
export * from './weight-arrays';
export * from './worker-count';
export * from './data-parallel-grpo';
