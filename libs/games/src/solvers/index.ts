export * from './bimatrix';
export * from './game-tree';
