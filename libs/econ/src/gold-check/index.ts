export * from './checkers';
export * from './prompt-parts';
export * from './report';
export * from './check-rows';
