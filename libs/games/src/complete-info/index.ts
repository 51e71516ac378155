export * from './simultaneous-games';
export * from './sequential-games';
export * from './prompts';
