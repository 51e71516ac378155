import { join } from 'node:path';
import { importDataset, type ProblemRow } from '../dataset';
import { EVAL_PER_CATEGORY, RECON_CATEGORIES, TRAIN_QUOTAS } from './categories';
import { formatTagReport, tagReport } from './report';
import { tagProblem } from './tagger';

const DATA = join(__dirname, '../../../../../shared/recon-data');
const texts = (file: string) => (importDataset(join(DATA, file)).rows as ProblemRow[]).map((r) => r.messages.map((m) => m.content).join('\n'));

describe('category tagger on the real data', () => {
  const evalTexts = texts('eval_dataset.csv');
  const trainTexts = texts('train_dataset.csv');

  it('finds 15 groups of 20 in eval, each a contiguous block of the file', () => {
    const report = tagReport('eval', evalTexts);
    for (const category of RECON_CATEGORIES) expect(report.counts[category]).toBe(EVAL_PER_CATEGORY);
    expect(report.counts.unknown).toBe(0);
    // The eval file lists the categories in blocks of 20; every block has a single tag.
    for (let block = 0; block < 15; block += 1) {
      const tags = new Set(evalTexts.slice(block * 20, block * 20 + 20).map(tagProblem));
      expect(tags.size).toBe(1);
    }
  });

  it('reproduces the Table 6 quotas on train', () => {
    const report = tagReport('train', trainTexts);
    for (const category of RECON_CATEGORIES) expect([category, report.counts[category]]).toEqual([category, TRAIN_QUOTAS[category]]);
    expect(report.counts.unknown).toBe(0);
    expect(formatTagReport([report])).toContain('Enforceability');
  });
});

describe('tagProblem', () => {
  it.each([
    ['Your task is to compute the **Perfectly Transparent Equilibrium (PTE)**', 'PTE'],
    ['find all pure strategy Nash equilibria (PSNE) in this game', 'Pure Nash'],
    ['At a school charity auction, you win a novel. You declined to trade.', 'Endowment Effect'],
    ['Alice and Bob negotiate over three rounds with an auction house; in the first round Alice may accept', 'Backward Induction'],
    ['Which type of auction yields the highest bids from risk-averse investors?', 'Auction Risk'],
    ['What is the lowest sense of worth for future prizes that makes such a pattern rational?', 'Trigger'],
    ['The weather is nice today.', 'unknown'],
  ])('%s -> %s', (text, tag) => {
    expect(tagProblem(text)).toBe(tag);
  });
});
