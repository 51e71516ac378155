export * from './answer-shape';
export * from './extract';
export * from './graders';
