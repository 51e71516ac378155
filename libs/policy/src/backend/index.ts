export * from './select-backend';
