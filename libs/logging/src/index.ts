export * from './logger';
export * from './event-context';
