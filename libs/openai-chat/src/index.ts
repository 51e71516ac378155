export * from './chat-client';
