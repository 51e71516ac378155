export * from './events';
export * from './complete-info-trial';
export * from './replay';
export * from './schedule';
export * from './gtbench-match';
