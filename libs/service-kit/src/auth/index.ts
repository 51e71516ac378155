export * from './tokens';
export * from './guard';
export * from './rate-limit';
