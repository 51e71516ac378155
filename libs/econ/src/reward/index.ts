export * from './hierarchical-reward';
