export * from './teacher-client';
export * from './job-state';
export * from './job';
