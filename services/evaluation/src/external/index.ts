export * from './recorded-chat';
export * from './external-agent';
export * from './external-evaluation';
export * from './recorded-progress';
