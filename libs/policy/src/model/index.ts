export * from './config';
export * from './causal-attention';
export * from './ops';
export * from './transformer';
export * from './memory-estimate';
