export * from './random-opponent';
export * from './minimax';
export * from './mcts';
export * from './tit-for-tat';
