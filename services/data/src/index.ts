export * from './stores';
export * from './producer';
export * from './import-dataset';
export * from './load-dataset';
export * from './cli';
export * from './distillation';
