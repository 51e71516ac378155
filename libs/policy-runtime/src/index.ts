export * from './policy-checkpoints';
export * from './pretrained-checkpoints';
export * from './prompt-tokens';
export * from './compute-pool';
