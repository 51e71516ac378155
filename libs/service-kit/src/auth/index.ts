export * from './tokens';
export * from './guard';
export * from './rate-limit';
export * from './auth-failure-limiter';
