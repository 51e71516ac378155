export * from './event-bus';
export * from './in-process-bus';
export * from './kafka';
