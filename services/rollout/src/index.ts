export * from './rollout.module';
export * from './rollout.worker';
