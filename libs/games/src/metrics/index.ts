export * from './wilson';
export * from './match-metrics';
export * from './paired-difference';
export * from './random-play';
export * from './ratings';
