export * from './teacher-client';
export * from './job-state';
export * from './job';
export * from './job-settings';
export * from './distilled-dataset';
