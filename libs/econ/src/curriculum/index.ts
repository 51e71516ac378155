export * from './categories';
export * from './generate';
export type { CurriculumStyle, Problem, ProblemAnswer, ProblemGenerator, Rendering } from './problem';
export { renderProblem } from './render';
export { seedFor } from './rng';
