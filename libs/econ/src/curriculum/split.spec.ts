import { CURRICULUM_CATEGORY_NAMES } from './categories';
import { generateCurriculum, splitOfFamily } from './generate';

describe('held-out split', () => {
  it('never gives train and test the same prompt (1000 of each per category)', () => {
    for (const category of CURRICULUM_CATEGORY_NAMES) {
      const train = generateCurriculum({ categories: [category], split: 'train', count: 1000, seed: 7, style: 'compact' });
      const test = new Set(generateCurriculum({ categories: [category], split: 'test', count: 1000, seed: 7, style: 'compact' }).map((i) => i.prompt));
      expect({ category, distinctTest: test.size, shared: train.filter((i) => test.has(i.prompt)).length }).toEqual({ category, distinctTest: 1000, shared: 0 });
    }
  });


  it('assigns a family to one split by its content alone', () => {
    const families = Array.from({ length: 10000 }, (_, i) => `family ${i}`);
    const test = families.filter((f) => splitOfFamily(f) === 'test').length;
    expect(test).toBeGreaterThan(1700);
    expect(test).toBeLessThan(2300);
    expect(families.map(splitOfFamily)).toEqual(families.map(splitOfFamily));
  });
});
