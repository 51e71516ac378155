import fc from 'fast-check';
import { RECON_REWARD, reconHierarchicalReward, type RewardResult } from '../reward/hierarchical-reward';
import { balancedBoxedAll, paperFirstBoxed, unwrapLatex } from './extract';
import { exactAnswerGrade, paperEvalGrade, strictGrade, type Grade } from './graders';

const RUNS = 3000;
const SEED = 2020;
const GOLDS = [
  'Option 2: defect',
  'Option 1',
  'Yes',
  'No',
  'A, C, B',
  '[[0, 1], [1, 0]]',
  '[]',
  'something else',
];

/** Completions made of the pieces a (bad) policy emits, plus arbitrary unicode. */
const piece = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      '</think>',
      '<think>',
      '\\boxed{',
      '}',
      '{',
      '\\text{',
      '\\mathrm{',
      'Option ',
      'option',
      '3',
      '99999999999999999999',
      ': ',
      '\n',
      '\r\n',
      '\u2028',
      'Yes',
      'no.',
      'A, C, B',
      '[[0,1]]',
      '<s>',
      '</s>',
      'choice_2',
    ),
  },
  { weight: 1, arbitrary: fc.constantFrom(...GOLDS) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 12 }) },
);
const completion = fc.array(piece, { maxLength: 40 }).map((parts) => parts.join(''));
const gold = fc.oneof(fc.constantFrom(...GOLDS), fc.string({ maxLength: 20 }));

const STAGE_TOTAL: Record<string, number> = {
  format: RECON_REWARD.FORMAT_PENALTY,
  parse: RECON_REWARD.PARSE_PENALTY,
  correct: RECON_REWARD.CORRECT_BOX,
  partial: RECON_REWARD.PARTIAL,
  wrong: RECON_REWARD.WRONG,
};

function checkGrade(grade: Grade, output: string): void {
  expect(typeof grade.correct).toBe('boolean');
  if (grade.parsed === null) expect(grade.correct).toBe(false);
  else expect(typeof grade.parsed).toBe('string');
  expect(grade.parsed === null || grade.parsed.length <= output.length).toBe(true);
}

function checkReward(reward: RewardResult): void {
  expect(reward.total).toBe(STAGE_TOTAL[reward.stage]);
  const { format_penalty, parse_penalty, correctness } = reward.components;
  expect(format_penalty + parse_penalty + correctness).toBe(reward.total);
  expect([format_penalty, parse_penalty, correctness].filter((c) => c !== 0)).toHaveLength(1);
  // (+0.5 for exactly one </think>, else -1) + (-1 for a missing </think> or an early box, else +0.25)
  expect([-2, -0.75, -0.5, 0.75]).toContain(reward.formatScore);
  expect(reward.stage === 'format').toBe(reward.formatScore <= 0);
  expect(
    reward.stage === 'format' || reward.stage === 'parse'
      ? reward.parsed === null
      : typeof reward.parsed === 'string',
  ).toBe(true);
}

/** Graders and reward on one input: never throw, a grade / a reward in range, the same answer twice. */
function gradeAll(output: string, answer: string): boolean {
  const [paper, strict, exact, reward] = [
    paperEvalGrade(output, answer),
    strictGrade(output, answer),
    exactAnswerGrade(output, answer),
    reconHierarchicalReward(output, answer),
  ];
  checkGrade(paper, output);
  checkGrade(strict, output);
  checkGrade(exact, output);
  checkReward(reward);
  // Where the final answer states an option number, exact is stricter than the option-number grade.
  if (exact.correct && exact.parsed !== null && /^option\s*\d/i.test(exact.parsed))
    expect(strict.correct).toBe(true);
  expect([
    paperEvalGrade(output, answer),
    strictGrade(output, answer),
    exactAnswerGrade(output, answer),
    reconHierarchicalReward(output, answer),
  ]).toEqual([paper, strict, exact, reward]);
  return paper.correct || strict.correct || reward.stage === 'correct';
}

describe('graders and the hierarchical reward under generated adversarial completions', () => {
  it(`grade ${RUNS} generated completions without throwing, in range and deterministically`, () => {
    let credited = 0;
    fc.assert(
      fc.property(completion, gold, (output, answer) => {
        if (gradeAll(output, answer)) credited += 1;
      }),
      { seed: SEED, numRuns: RUNS },
    );
    fc.assert(
      fc.property(
        fc.string({ unit: 'binary', maxLength: 300 }),
        gold,
        (output, answer) => void gradeAll(output, answer),
      ),
      {
        seed: SEED + 1,
        numRuns: RUNS,
      },
    );
    expect(credited).toBeGreaterThan(0);
    process.stdout.write(
      `grader/reward fuzz: ${2 * RUNS} cases, ${credited} credited, 0 crashes, deterministic\n`,
    );
  });

  it('extracts the paper box and unwraps LaTeX exactly as the regexes they replace did', () => {
    const regex = /\\boxed\{([^\n]*?)\}/;
    const unwrapByRegex = (text: string) => {
      let current = text.trim();
      for (;;) {
        const match = /^\\(?:text|mathrm|textbf|mathbf)\{([\s\S]*)\}$/.exec(current);
        if (!match) return current;
        current = match[1].trim();
      }
    };
    fc.assert(
      fc.property(completion, (output) => {
        expect(paperFirstBoxed(output)).toBe(regex.exec(output)?.[1] ?? null);
        expect(unwrapLatex(output)).toBe(unwrapByRegex(output));
        const boxed = balancedBoxedAll(output).at(-1);
        if (boxed !== undefined) expect(unwrapLatex(boxed)).toBe(unwrapByRegex(boxed));
      }),
      { seed: SEED + 2, numRuns: RUNS },
    );
  });

  it('grades huge (262,144-character, the stored limit) and deeply nested completions in linear time', () => {
    const n = 262_144;
    const huge = [
      '\\boxed{'.repeat(n / 7),
      `</think>${'\\boxed{'.repeat(n / 8 - 1)}`,
      `${'\\boxed{\n'.repeat(n / 8)}}`,
      `</think>\\boxed{${'\\text{'.repeat(n / 6 - 2)}Yes${'}'.repeat(n / 6 - 1)}`,
      '</think>'.repeat(n / 8),
      `${'{'.repeat(n / 2)}${'}'.repeat(n / 2)}`,
      `</think>${'option '.repeat(n / 7)}`,
      `</think>\\boxed{Option ${'9'.repeat(n - 30)}}`,
      '\ud800'.repeat(n),
      `</think>\\boxed{${'[[0,1],'.repeat(n / 8)}[0,1]]}`,
      `</think>\\boxed{${'A,'.repeat(n / 3)}B}`,
    ];
    const started = Date.now();
    for (const output of huge)
      for (const answer of ['Yes', 'Option 1', '[[0, 1], [1, 0]]', 'A, C, B']) gradeAll(output, answer);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(balancedBoxedAll(`\\boxed{${'{'.repeat(1000)}`)).toEqual([]);
    expect(reconHierarchicalReward(`</think>${'\\boxed{'.repeat(n / 8 - 1)}`, 'Yes').stage).toBe('parse');
  });
});
