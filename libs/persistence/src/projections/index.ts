export * from './projector';
export * from './runs.projector';
export * from './metrics.projector';
export * from './row-per-event.projector';
export * from './projection-runner';
export * from './tokens.projector';
export * from './projection-processor';
