export * from './recorded-chat';
export * from './external-agent';
export * from './external-evaluation';
