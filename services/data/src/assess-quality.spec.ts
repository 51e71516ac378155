import { join } from 'node:path';
import { importDataset, type ProblemRow } from '@recon/econ';
import { assessQuality, type AssessedDataset } from './assess-quality';

const DATA = join(__dirname, '../../../../shared/recon-data');
const load = (file: string) => importDataset(join(DATA, file), { skipInvalid: true });

describe('assessQuality on the real Recon data', () => {
  const [evalSet, train, cot] = ['eval_dataset.csv', 'train_dataset.csv', 'sft_cot_dataset.csv'].map(load);
  const problems = (role: 'eval' | 'grpo', name: string, set: typeof evalSet): AssessedDataset => {
    const registration = {
      name,
      versionHash: set.versionHash,
      blobHash: set.versionHash,
      rowCount: set.rows.length,
      split: 'train' as const,
    };
    return {
      role,
      name,
      versionHash: set.versionHash,
      rows: set.rows,
      gold: [
        {
          source: { name, versionHash: set.versionHash, rows: set.rows as ProblemRow[] },
          corrections: { registration, applied: [] },
        },
      ],
    };
  };
  const quality = assessQuality([
    problems('eval', 'eval_dataset', evalSet),
    { role: 'sft', name: 'sft_cot_dataset', versionHash: cot.versionHash, rows: cot.rows },
    problems('grpo', 'train_dataset', train),
  ]);

  it('counts duplicate prompts in each set', () => {
    expect(
      quality.datasets.map((d) => [
        d.name,
        d.rowCount,
        d.duplicatePrompts.prompts,
        d.duplicatePrompts.extraRows,
      ]),
    ).toEqual([
      ['eval_dataset', 300, 4, 4],
      ['sft_cot_dataset', 864, 15, 38],
      ['train_dataset', 1800, 18, 54],
    ]);
  });

  it('finds the eval prompts a training set holds verbatim', () => {
    expect(quality.overlaps.map((o) => [o.train.name, o.evalRows])).toEqual([
      ['sft_cot_dataset', 2],
      ['train_dataset', 9],
    ]);
    expect(quality.overlaps[1].examples).toHaveLength(9);
  });

  it('lists the golds no solver reading confirms, none corrected yet', () => {
    const wrong = quality.gold.flatMap((g) =>
      g.open.filter((d) => d.verdict === 'disagrees').map(() => g.name),
    );
    expect(wrong.filter((n) => n === 'eval_dataset')).toHaveLength(2);
    expect(wrong.filter((n) => n === 'train_dataset')).toHaveLength(10);
    expect(quality.gold.every((g) => g.corrected.length === 0)).toBe(true);
  });
});
