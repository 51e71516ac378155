export * from './evaluation.module';
export * from './evaluation.worker';
export * from './suite-results';
export * from './opponents';
export * from './external';
export { OpponentSettingError } from './gtbench-opponents';
