import { reconHierarchicalReward, RECON_REWARD } from './hierarchical-reward';

const GOLD = 'Option 2: Both firms collude to set high prices every year';

describe('reconHierarchicalReward (the paper\'s constants and stages)', () => {
  it.each([
    ['correct box after think', `<think>reasoning</think> \\boxed{${GOLD}}`, GOLD, 'correct', 5.0],
    ['correct with surrounding whitespace', `<think>r</think>\\boxed{  ${GOLD}  }`, GOLD, 'correct', 5.0],
    ['same option number, other text', '<think>r</think> \\boxed{Option 2: collude}', GOLD, 'partial', 2.0],
    ['option label without box', '<think>r</think> The answer is option 2.', GOLD, 'partial', 2.0],
    ['wrong option', '<think>r</think> \\boxed{Option 1: price war}', GOLD, 'wrong', -3.0],
    ['case of the option word differs (exact match fails)', `<think>r</think> \\boxed{${GOLD.toLowerCase()}}`, GOLD, 'partial', 2.0],
    ['box before </think>', '<think>\\boxed{Option 2}</think> \\boxed{Option 2}', GOLD, 'format', -4.0],
    ['two </think>', '<think>a</think> b </think> \\boxed{Option 2}', GOLD, 'format', -4.0],
    ['missing </think>', '\\boxed{Option 2}', GOLD, 'format', -4.0],
    ['empty output', '', GOLD, 'format', -4.0],
    ['nothing parseable after think', '<think>Option 2 looks right</think> I am not sure.', GOLD, 'parse', -5.0],
    ['nested braces: the paper regex stops at the first }', '<think>r</think> \\boxed{\\text{Option 2}}', GOLD, 'partial', 2.0],
    ['pure Nash list exact', '<think>r</think> \\boxed{[[0, 1], [2, 2]]}', '[[0, 1], [2, 2]]', 'correct', 5.0],
    ['pure Nash list spacing differs (paper compares text)', '<think>r</think> \\boxed{[[0,1],[2,2]]}', '[[0, 1], [2, 2]]', 'wrong', -3.0],
    ['yes/no', '<think>r</think> \\boxed{Yes}', 'Yes', 'correct', 5.0],
    ['ordering', '<think>r</think> \\boxed{A, D, C, B}', 'A, D, C, B', 'correct', 5.0],
    ['a box spanning a line break is skipped, as Python `.` does', `<think>r</think> \\boxed{Option 1:\nprice war} \\boxed{${GOLD}}`, GOLD, 'correct', 5.0],
    ['Option label fallback: the first label after </think>', '<think>Option 1</think> not option 1 but Option 2', GOLD, 'wrong', -3.0],
    ['only whitespace', '   \n\t ', GOLD, 'format', -4.0],
    ['unclosed box after think falls back to the option label', '<think>r</think> \\boxed{Option 2', GOLD, 'partial', 2.0],
    ['unicode around the answer', '<think>思考 — ünïcode</think> ✓ \\boxed{Yes} 🎉', 'Yes', 'correct', 5.0],
  ])('%s', (_name, completion, gold, stage, total) => {
    const result = reconHierarchicalReward(completion, gold);
    expect(result.stage).toBe(stage);
    expect(result.total).toBe(total);
    expect(result.components.format_penalty + result.components.parse_penalty + result.components.correctness).toBe(total);
  });

  it('scores a 1 MB output without trouble', () => {
    const big = `<think>${'x'.repeat(1 << 20)}</think> \\boxed{${GOLD}}`;
    expect(reconHierarchicalReward(big, GOLD).total).toBe(RECON_REWARD.CORRECT_BOX);
  });

  it('grades each completion against its own gold (not the first row of a batch)', () => {
    const rows = [
      { completion: '<think>r</think> \\boxed{Yes}', gold: 'Yes' },
      { completion: '<think>r</think> \\boxed{No}', gold: 'No' },
    ];
    expect(rows.map((row) => reconHierarchicalReward(row.completion, row.gold).total)).toEqual([5, 5]);
  });

  it('reports the format score it gated on', () => {
    expect(reconHierarchicalReward('<think>r</think> \\boxed{Yes}', 'Yes').formatScore).toBe(0.75);
    expect(reconHierarchicalReward('\\boxed{Yes}', 'Yes').formatScore).toBe(-2);
  });
});
