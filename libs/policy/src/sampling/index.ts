export * from './sampler';
export * from './token-choice';
export * from './constrained';
