export * from './answer-shape';
export * from './extract';
export * from './graders';
export * from './baselines';
export * from './game-move';
