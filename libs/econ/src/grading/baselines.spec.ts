import { generateCurriculum } from '../curriculum';
import { goldText, promptOptions, splitOption } from './answer-shape';
import { exactAnswerGrade } from './graders';
import {
  baselineAnswer,
  majorityAnswerText,
  majorityAnswerTextByCategory,
  scoreBaseline,
  type BaselineItem,
} from './baselines';

const item = (category: string, options: string[], gold: number | string): BaselineItem => ({
  category,
  prompt: `Q? ${options.map((o, i) => `Option ${i + 1}: ${o}`).join('; ')}`,
  gold: typeof gold === 'number' ? `Option ${gold}: ${options[gold - 1]}` : gold,
});

// Training split: in `trigger` the gold text is mostly "defect" wherever the shuffle put it; `nash` is yes/no.
const TRAIN = [
  item('trigger', ['cooperate', 'defect'], 2),
  item('trigger', ['defect', 'cooperate'], 1),
  item('trigger', ['cooperate', 'defect', 'wait'], 1),
  item('nash', [], 'No'),
  item('nash', [], 'No'),
  item('nash', [], 'Yes'),
  item('other', ['x', 'y'], 1),
];
// Test split: one trigger item has no "defect" option at all.
const TEST = [
  item('trigger', ['defect', 'cooperate'], 1),
  item('trigger', ['cooperate', 'defect'], 1),
  item('trigger', ['wait', 'cooperate'], 2),
  item('nash', [], 'No'),
  item('nash', [], 'Yes'),
];

describe('answer baselines counted on the training split', () => {
  it('count gold TEXTS, not positions, overall and per category', () => {
    expect(majorityAnswerText(TRAIN)).toBe('No'); // "No" 2 and "defect" 2: ties go to the smaller text
    expect(majorityAnswerTextByCategory(TRAIN)).toEqual(
      new Map([
        ['trigger', 'defect'],
        ['nash', 'No'],
        ['other', 'x'],
      ]),
    );
  });

  it('answer the option with that text, with its number on this item', () => {
    expect(baselineAnswer('defect', TEST[0].prompt)).toBe('Option 1: defect');
    expect(baselineAnswer('defect', TEST[1].prompt)).toBe('Option 2: defect');
    expect(baselineAnswer('defect', TEST[2].prompt)).toBe('defect');
    expect(baselineAnswer('No', TEST[3].prompt)).toBe('No');
  });

  it('score the per-category majority on the test items under both graders', () => {
    const byCategory = majorityAnswerTextByCategory(TRAIN);
    // trigger: right on item 0 only; nash: right on "No" only.
    expect(scoreBaseline(TEST, (i) => byCategory.get(i.category) ?? null)).toEqual({
      items: 5,
      correct: { exact: 2, paper: 2 },
    });
    // The global majority "No" is right on one item of five.
    expect(scoreBaseline(TEST, () => majorityAnswerText(TRAIN))).toEqual({
      items: 5,
      correct: { exact: 1, paper: 1 },
    });
  });

  it('separate the graders where a position matches and the text does not', () => {
    // "Option 1: cooperate" for gold "Option 1: defect": the paper's grader credits the number, exact does not.
    const test = [item('trigger', ['defect', 'cooperate'], 1)];
    expect(scoreBaseline(test, () => 'cooperate')).toEqual({ items: 1, correct: { exact: 0, paper: 0 } });
    const moved = [item('trigger', ['cooperate', 'defect'], 2)];
    expect(scoreBaseline(moved, () => 'Option 2: wait')).toEqual({
      items: 1,
      correct: { exact: 0, paper: 1 },
    });
  });

  it('skips items a baseline has no answer for (a category never seen in training) as wrong', () => {
    expect(scoreBaseline([item('new', ['a'], 1)], () => null)).toEqual({
      items: 1,
      correct: { exact: 0, paper: 0 },
    });
  });
});

describe('option texts of generated curriculum items', () => {
  it.each(['compact', 'full'] as const)(
    '%s prompts list the gold option text at the gold number, and the trace grades exact',
    (style) => {
      for (const split of ['train', 'test'] as const) {
        for (const item of generateCurriculum({ split, style, count: 4, seed: 11 })) {
          expect(exactAnswerGrade(item.trace, item.answer)).toMatchObject({ correct: true });
          const option = splitOption(item.answer);
          if (!option) continue;
          const options = promptOptions(item.prompt);
          expect({ id: item.id, listed: options[option.number - 1] }).toEqual({
            id: item.id,
            listed: option,
          });
          expect(baselineAnswer(goldText(item.answer), item.prompt)).toBe(item.answer);
        }
      }
    },
  );
});
