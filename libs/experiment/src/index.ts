export * from './experiment-config';
export * from './load-config';
export * from './run-config';
export * from './owned-streams';
export * from './presets';
export * from './request-run';
