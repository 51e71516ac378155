import { conciseCorrect } from './concise.reward';

const row = { index: 0, messages: [], gold: 'Option 2: B', goldShape: 'option' as const };
const config = { budgetChars: 400, penaltyPerChar: 0.002 };
const score = (completion: string) =>
  conciseCorrect.score({ runId: 'r', promptId: 'p', completion, row }, config);

describe('concise-correct reward', () => {
  it('pays correctness and charges characters past the budget', () => {
    expect(score('<think>b</think>\n\\boxed{Option 2: B}')).toEqual({
      total: 1,
      components: { correct: 1, length: -0 },
    });
    expect(score('<think>a</think>\n\\boxed{Option 1: A}').total).toBe(0);
    const long = `<think>${'x'.repeat(600)}</think>\n\\boxed{Option 2: B}`;
    expect(score(long).components.length).toBeCloseTo(-0.002 * (long.length - 400), 10);
  });
});
