export * from './backend';
export * from './model';
export * from './sampling';
export * from './tokenizer';
export * from './training';
