import { GOLD_CHECKERS } from '../gold-check/checkers';
import { strictGrade } from '../grading';
import { reconHierarchicalReward } from '../reward';
import { CURRICULUM_CATEGORY_NAMES } from './categories';
import { generateCurriculum, type CurriculumItem } from './generate';

const STYLES = ['compact', 'full'] as const;

/** The label a constant guesser would bet on: the option number for choices, the literal otherwise. */
const label = (answer: string) => /^Option (\d+)/.exec(answer)?.[1] ?? answer;

function majorityShare(items: readonly CurriculumItem[]): number {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(label(item.answer), (counts.get(label(item.answer)) ?? 0) + 1);
  return Math.max(...counts.values()) / items.length;
}

describe('generateCurriculum', () => {
  it('is deterministic by seed and differs across seeds', () => {
    for (const style of STYLES) {
      const a = generateCurriculum({ split: 'train', count: 20, seed: 1, style });
      expect(generateCurriculum({ split: 'train', count: 20, seed: 1, style })).toEqual(a);
      const b = generateCurriculum({ split: 'train', count: 20, seed: 2, style });
      expect(b.map((i) => i.prompt)).not.toEqual(a.map((i) => i.prompt));
      expect(a).toHaveLength(20 * CURRICULUM_CATEGORY_NAMES.length);
      expect(a.slice(0, CURRICULUM_CATEGORY_NAMES.length).map((i) => i.category)).toEqual(CURRICULUM_CATEGORY_NAMES);
    }
  });

  it('writes traces that earn the full paper reward and grade correct, and a wrong box does not', () => {
    for (const style of STYLES) {
      for (const seed of [3, 4, 5, 6]) {
        for (const item of generateCurriculum({ split: seed % 2 ? 'train' : 'test', count: 60, seed, style })) {
          expect({ id: item.id, total: reconHierarchicalReward(item.trace, item.answer).total }).toEqual({ id: item.id, total: 5 });
          expect({ id: item.id, correct: strictGrade(item.trace, item.answer).correct }).toEqual({ id: item.id, correct: true });
          const wrong = item.answer.startsWith('Option') ? item.answer.replace(/^Option (\d+)/, (_, n) => `Option ${Number(n) === 1 ? 2 : 1}`) : item.answer === 'Yes' ? 'No' : item.answer === 'No' ? 'Yes' : item.answer === '[]' ? '[[0, 0]]' : '[]';
          expect(strictGrade(item.trace.replace(`\\boxed{${item.answer}}`, `\\boxed{${wrong}}`), item.answer).correct).toBe(false);
        }
      }
    }
  });

  it('keeps compact prompt + trace within 600 characters', () => {
    for (const item of generateCurriculum({ split: 'train', count: 300, seed: 8, style: 'compact' })) {
      expect({ id: item.id, long: item.prompt.length + item.trace.length > 600 }).toEqual({ id: item.id, long: false });
    }
  });

  it('spreads answers: no label above 40% in any category', () => {
    for (const category of CURRICULUM_CATEGORY_NAMES) {
      const share = majorityShare(generateCurriculum({ categories: [category], split: 'train', count: 600, seed: 9, style: 'full' }));
      expect({ category, below: share <= 0.4 }).toEqual({ category, below: true });
    }
  });

  it('writes full prompts the gold checker reads and agrees with (pure Nash, Condorcet, Bayes-Nash)', () => {
    const pairs = [
      ['pure_nash', 'Pure Nash'],
      ['condorcet', 'Condorcet Criterion'],
      ['bayes_nash', 'Bayes Nash'],
    ] as const;
    for (const [category, recon] of pairs) {
      for (const item of generateCurriculum({ categories: [category], split: 'test', count: 100, seed: 10, style: 'full' })) {
        expect({ id: item.id, outcome: GOLD_CHECKERS[recon]!(item.prompt, item.answer) }).toEqual({ id: item.id, outcome: expect.objectContaining({ agrees: true }) });
      }
    }
  });

  it('rejects unknown categories and bad counts by name', () => {
    expect(() => generateCurriculum({ categories: ['astrology'], split: 'train', count: 1, seed: 1 })).toThrow(/unknown category 'astrology' \(known: pure_nash/);
    expect(() => generateCurriculum({ split: 'train', count: -1, seed: 1 })).toThrow('curriculum: count must be a non-negative integer, got -1');
  });

  it('still accepts perCategory and exclude (the data service passes them)', () => {
    const test = generateCurriculum({ categories: ['condorcet'], split: 'test', perCategory: 5, seed: 11 });
    const train = generateCurriculum({ categories: ['condorcet'], split: 'train', perCategory: 5, seed: 11, exclude: new Set(test.map((i) => i.prompt)) });
    expect(train).toHaveLength(5);
  });
});
