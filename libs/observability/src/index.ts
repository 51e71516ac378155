export * from './metrics';
export * from './event-pipeline-metrics';
export * from './run-metrics';
export * from './relay-metrics';
export * from './event-bus-metrics';
export * from './kafka-consumer-lag';
export * from './bus-readiness-metrics';
