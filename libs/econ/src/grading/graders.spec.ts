import { goldShapeOf, goldText, parseNashList, promptOptions, splitOption } from './answer-shape';
import { balancedBoxedAll } from './extract';
import { exactAnswerGrade, paperEvalGrade, strictGrade } from './graders';

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

describe('exactAnswerGrade (final box must state the gold option text, and its number if it gives one)', () => {
  const U = 'Option 1: U';
  it.each([
    ['<think>x</think> \\boxed{Option 1: U}', U, true],
    ['<think>x</think> \\boxed{Option 1: D}', U, false],
    ['<think>x</think> \\boxed{Option 2: U}', U, false],
    ['<think>x</think> \\boxed{U}', U, true],
    ['<think>x</think> \\boxed{Option 1}', U, false],
    ['<think>x</think> \\boxed{\\text{Option 1:   U}}', U, true],
    ['<think>x</think> \\boxed{option 1: U}', U, true],
    ['<think>x</think> \\boxed{Option 1: u}', U, false],
    ['<think>x</think> \\boxed{Option 1: U and more}', U, false],
    ['<think>\\boxed{Option 1: U}</think> \\boxed{Option 1: D}', U, false],
    ['\\boxed{Option 1: D} then \\boxed{Option 1: U}', U, true],
    [`<think>x</think> \\boxed{${OPT}}`, OPT, true],
    ['<think>x</think> \\boxed{Option 3: something else}', OPT, false],
    ['<think>x</think> \\boxed{}', 'Option 1', false],
    ['<think>x</think> \\boxed{Option 1}', 'Option 1', true],
    ['<think>x</think> \\boxed{ yes. }', 'Yes', true],
    ['<think>x</think> \\boxed{[[2,2], [0, 1]]}', '[[0, 1], [2, 2]]', true],
    ['<think>x</think> \\boxed{A, C, D, B}', 'A, D, C, B', false],
    ['no box: Option 1: U', U, false],
  ])('%s vs %s -> %s', (output, gold, correct) => {
    expect(exactAnswerGrade(output, gold).correct).toBe(correct);
  });

  it('is wrong where the paper grader gives credit for the option number alone', () => {
    const output = '<think>x</think> \\boxed{Option 1: D}';
    expect(paperEvalGrade(output, 'Option 1: U').correct).toBe(true);
    expect(strictGrade(output, 'Option 1: U').correct).toBe(true);
    expect(exactAnswerGrade(output, 'Option 1: U')).toEqual({ correct: false, parsed: 'Option 1: D' });
  });
});

describe('answer shapes', () => {
  it('reads options and their texts from golds and prompts', () => {
    expect(splitOption('Option 2: Both defect')).toEqual({ number: 2, text: 'Both defect' });
    expect(splitOption('Option 2')).toEqual({ number: 2, text: '' });
    expect(splitOption('Both defect')).toBeNull();
    expect(goldText('Option 2: Both defect')).toBe('Both defect');
    expect(goldText(' Yes ')).toBe('Yes');
    // compact (one line, `; `), full (one a line, after a question that itself says "Option 1"), Recon-like
    expect(promptOptions('Who wins? Option 1: Alice; Option 2: Bob; Option 3: nobody')).toEqual([
      { number: 1, text: 'Alice' },
      { number: 2, text: 'Bob' },
      { number: 3, text: 'nobody' },
    ]);
    expect(
      promptOptions(
        'Answer \\boxed{Option X: text}, e.g. Option 1: x.\n\nOptions:\nOption 1: 0.25\nOption 2: 0.5\n',
      ),
    ).toEqual([
      { number: 1, text: '0.25' },
      { number: 2, text: '0.5' },
    ]);
    expect(promptOptions('Option 1: a\nOption 3: c')).toEqual([{ number: 1, text: 'a' }]);
    expect(promptOptions('Is it stable? Answer Yes or No.')).toEqual([]);
  });

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
