export * from './define-reward';
export * from './reward-worker';
export * from './plugins';
export * from './reward-workers.module';
export * from './serve-reward';
