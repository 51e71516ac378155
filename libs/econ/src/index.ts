export * from './dataset';
export * from './grading';
export * from './reward';
export * from './tagger';
export * from './curriculum';
export * from './solvers';
export * from './gold-check';
