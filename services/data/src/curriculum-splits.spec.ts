import { parseExperimentConfig } from '@recon/experiment';
import { curriculumSplits } from './curriculum-splits';

const curriculumOf = (extra: string) =>
  parseExperimentConfig(
    `name: t\ndatasets:\n  curriculum: { categories: [expected_value, pure_nash], trainItems: 40, testItems: 10, gameTrainItems: 8${extra} }\npolicy: { kind: builtin }\n`,
  ).datasets.curriculum!;

describe('curriculumSplits', () => {
  it('without grpoItems, GRPO draws its problems from the SFT rows (as before the option)', () => {
    const splits = curriculumSplits(curriculumOf(''), 7);
    expect(splits.grpo).toBe(splits.train);
    expect(splits.train).toHaveLength(48);
  });

  it('with grpoItems, GRPO gets problems of its own and the SFT rows stay the same', () => {
    const before = curriculumSplits(curriculumOf(''), 7);
    const after = curriculumSplits(curriculumOf(', grpoItems: 20'), 7);
    expect(after.train.map((i) => i.prompt)).toEqual(before.train.map((i) => i.prompt));
    expect(after.test.map((i) => i.prompt)).toEqual(before.test.map((i) => i.prompt));
    // 20 econ items (10 per category) and games in gameTrainItems' proportion (8 x 20 / 40 = 4, 2 per kind).
    expect(after.grpo).toHaveLength(24);
    const sft = new Set(after.train.map((i) => i.prompt));
    const held = new Set(after.test.map((i) => i.prompt));
    expect(after.grpo.filter((i) => sft.has(i.prompt) || held.has(i.prompt))).toEqual([]);
    expect(new Set(after.grpo.map((i) => i.category))).toEqual(
      new Set([...new Set(after.train.map((i) => i.category))]),
    );
  });
});
