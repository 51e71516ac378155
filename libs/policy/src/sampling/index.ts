export * from './sampler';
export * from './token-choice';
