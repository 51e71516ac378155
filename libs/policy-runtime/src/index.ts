export * from './policy-checkpoints';
export * from './prompt-tokens';
export * from './compute-pool';
