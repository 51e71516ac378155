export * from './kafka-codec';
export * from './kafka-topics';
export * from './handled-positions';
export * from './kafka-event-bus';
export * from './event-log-relay';
export * from './kafka-readiness';
export * from './kafka-config';
export * from './checkpoint-topic';
