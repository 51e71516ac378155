export * from './policy-checkpoints';
export * from './prompt-tokens';
