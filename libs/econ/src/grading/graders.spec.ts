import { goldShapeOf, parseNashList } from './answer-shape';
import { balancedBoxedAll } from './extract';
import { paperEvalGrade, strictGrade } from './graders';

const OPT = 'Option 3: Backward induction';

describe('paperEvalGrade (first box anywhere, else first Option N; same option number counts)', () => {
  it.each([
    [`\\boxed{${OPT}}`, OPT, true],
    ['<think>maybe \\boxed{Option 1}</think> \\boxed{Option 3}', OPT, false],
    ['I pick option 3', OPT, true],
    ['\\boxed{Option 3: something else}', OPT, true],
    ['\\boxed{[[0,1]]}', '[[0, 1]]', false],
    ['', OPT, false],
    ['\\boxed{Yes}', 'Yes', true],
  ])('%s vs %s -> %s', (output, gold, correct) => {
    expect(paperEvalGrade(output, gold).correct).toBe(correct);
  });
});

describe('strictGrade (final balanced box after the last </think>, compared by meaning)', () => {
  it.each([
    ['<think>x</think> \\boxed{Option 3: anything}', OPT, true],
    ['<think>\\boxed{Option 3}</think> no box after', OPT, false],
    ['<think>a</think><think>b</think> \\boxed{Option 1} then \\boxed{Option 3}', OPT, true],
    ['\\boxed{\\text{Option 3: Backward induction}}', OPT, true],
    ['<think>x</think> \\boxed{[[2,2], [0, 1]]}', '[[0, 1], [2, 2]]', true],
    ['<think>x</think> \\boxed{[[0, 1]]}', '[[0, 1], [2, 2]]', false],
    ['<think>x</think> \\boxed{[]}', '[]', true],
    ['<think>x</think> \\boxed{ yes }', 'Yes', true],
    ['<think>x</think> \\boxed{No}', 'Yes', false],
    ['<think>x</think> \\boxed{a,d,c,b}', 'A, D, C, B', true],
    ['<think>x</think> \\boxed{A, C, D, B}', 'A, D, C, B', false],
    ['<think>x</think> \\boxed{Option 3', OPT, false],
    ['', OPT, false],
    ['<think>ünï</think> \\boxed{Option 3} ✓', OPT, true],
    ['<think>x</think> \\boxed{OPTION  3 : backward}', OPT, true],
    ['<think>x</think> \\boxed{Option 3: a {nested} choice}', OPT, true],
    ['<think>x</think> \\boxed{Option 13}', OPT, false],
    ['<think>x</think> \\boxed{Yes.}', 'Yes', true],
    ['<think>x</think> \\boxed{Yes, probably}', 'Yes', false],
    ['<think>x</think> \\boxed{ A ,D, C,B }', 'A, D, C, B', true],
    ['<think>x</think> \\boxed{A, D, C}', 'A, D, C, B', false],
    ['<think>x</think> \\boxed{[ [0 ,1] ]}', '[[0, 1]]', true],
    ['<think>x</think> \\boxed{[[0, 1], [0, 1]]}', '[[0, 1]]', false],
    ['<think>x</think> \\boxed{[[0, 1]]}', '[]', false],
    ['<think>x</think>\n\n   ', 'Yes', false],
  ])('%s vs %s -> %s', (output, gold, correct) => {
    expect(strictGrade(output, gold).correct).toBe(correct);
  });

  it('handles a 1 MB output', () => {
    expect(strictGrade(`<think>${'{'.repeat(1 << 20)}</think> \\boxed{Yes}`, 'Yes').correct).toBe(true);
  });
});

describe('answer shapes', () => {
  it('classifies every gold shape of the data', () => {
    expect(goldShapeOf('Option 1: Both firms engage in a price war every year')).toBe('option');
    expect(goldShapeOf('No')).toBe('yes-no');
    expect(goldShapeOf('A, D, C, B')).toBe('ordering');
    expect(goldShapeOf('[[0, 2], [1, 1]]')).toBe('pure-nash');
    expect(goldShapeOf('[]')).toBe('pure-nash');
    expect(goldShapeOf('42')).toBeNull();
    expect(parseNashList('[[1, 2], [0, 0]]')).toEqual([
      [0, 0],
      [1, 2],
    ]);
    expect(balancedBoxedAll('\\boxed{a{b}c} and \\boxed{d}')).toEqual(['a{b}c', 'd']);
  });
});
