export * from './wilson';
export * from './match-metrics';
export * from './paired-difference';
