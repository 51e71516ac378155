import { reconHierarchicalReward, RECON_REWARD } from '../reward/hierarchical-reward';
import { answeredMoveNumber, goldMoveNumber, gradeGameMove } from './game-move';
import { goldShapeOf } from './answer-shape';
import { exactAnswerGrade, strictGrade } from './graders';

describe('game-move golds', () => {
  it('have a shape of their own', () => {
    expect(goldShapeOf('<s>choice_2</s>')).toBe('game-move');
    expect(goldMoveNumber('<s>choice_12</s>')).toBe(12);
    expect(goldShapeOf('Option 2: choice_2')).toBe('option');
    expect(goldMoveNumber('choice_2')).toBeNull();
  });

  it('are read as the games read replies: first <s>...</s> after the last </think>', () => {
    expect(answeredMoveNumber('<think>maybe <s>choice_1</s></think>\n<s> choice_2 </s>')).toBe(2);
    expect(answeredMoveNumber('<s>_choice_3</s><s>choice_1</s>')).toBe(3);
    expect(answeredMoveNumber('<think>x</think> choice_2')).toBeNull();
    expect(answeredMoveNumber('<s>choice 2</s>')).toBeNull();
  });

  it.each([strictGrade, exactAnswerGrade, gradeGameMove])('are graded by the move (%p)', (grade) => {
    const gold = '<s>choice_2</s>';
    expect(grade('<think>Bob 1: 2. Always 2.</think>\n<s>choice_2</s>', gold)).toEqual({ correct: true, parsed: 'choice_2' });
    expect(grade('<think>t</think>\n<s>choice_1</s>', gold)).toEqual({ correct: false, parsed: 'choice_1' });
    expect(grade('<think>t</think>\n\\boxed{<s>choice_2</s>}', gold).correct).toBe(true);
    expect(grade('<think>t</think> no tags', gold)).toEqual({ correct: false, parsed: null });
  });

  it('get the hierarchical reward: correct move, wrong move, no move', () => {
    const gold = '<s>choice_1</s>';
    expect(reconHierarchicalReward('<think>a</think>\n<s>choice_1</s>', gold).total).toBe(RECON_REWARD.CORRECT_BOX);
    expect(reconHierarchicalReward('<think>a</think>\n<s>choice_2</s>', gold).total).toBe(RECON_REWARD.WRONG);
    expect(reconHierarchicalReward('<think>a</think>\nchoice_1', gold).total).toBe(RECON_REWARD.PARSE_PENALTY);
    expect(reconHierarchicalReward('<s>choice_1</s>', gold).total).toBe(RECON_REWARD.FORMAT_PENALTY);
    // Other golds are scored as before.
    expect(reconHierarchicalReward('<think>a</think>\\boxed{Yes}', 'Yes').total).toBe(RECON_REWARD.CORRECT_BOX);
  });
});
