export * from './training.module';
export * from './training.worker';
