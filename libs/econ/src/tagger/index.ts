export * from './categories';
export * from './tagger';
export * from './report';
