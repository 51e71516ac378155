export * from './wilson';
export * from './match-metrics';
