import { join } from 'node:path';
import { GOLD_CHECKERS } from './checkers';
import { formatGoldCheck, goldCheck } from './report';

const DATA = join(__dirname, '../../../../../shared/recon-data');

describe('gold check on the real data', () => {
  const report = goldCheck(DATA);
  const row = (category: string) => report.categories.find((c) => c.category === category);

  it('solves every matrix, Bayes-Nash and time-inconsistency problem and agrees with its gold', () => {
    expect(row('Pure Nash')).toEqual({ category: 'Pure Nash', checked: 120, agreed: 120, disagreed: 0, unparsed: 0 });
    expect(row('PTE')).toEqual({ category: 'PTE', checked: 120, agreed: 120, disagreed: 0, unparsed: 0 });
    expect(row('Bayes Nash')).toEqual({ category: 'Bayes Nash', checked: 70, agreed: 70, disagreed: 0, unparsed: 0 });
    expect(row('Time Inconsistency')).toEqual({ category: 'Time Inconsistency', checked: 45, agreed: 45, disagreed: 0, unparsed: 0 });
  });

  it('finds the Condorcet golds that name a candidate who loses a head-to-head vote', () => {
    expect(row('Condorcet Criterion')).toEqual({ category: 'Condorcet Criterion', checked: 45, agreed: 32, disagreed: 13, unparsed: 0 });
    // eval line 196: W beats B 66-32 but loses to T 39-59, and T loses to B 44-54: a cycle, yet the gold is W.
    expect(report.disagreements).toContainEqual({
      file: 'eval_dataset.csv',
      line: 196,
      category: 'Condorcet Criterion',
      gold: 'Option 1: Nominee W',
      computed: 'Option 4: There should be a tie',
    });
    const text = formatGoldCheck(report);
    expect(text).toMatch(/^Condorcet Criterion +45 +32 +13 +0$/m);
    expect(text).toContain('eval_dataset.csv:196 [Condorcet Criterion] gold Option 1: Nominee W | computed Option 4: There should be a tie');
  });
});

describe('gold checkers on hand-written prompts', () => {
  const matrices = (row: string, col: string) => `Player 0's payoff matrix:\n${row}\n\nPlayer 1's payoff matrix:\n${col}`;
  const pd = matrices('[[3, 0], [5, 1]]', '[[3, 5], [0, 1]]');

  it('compares pure-Nash lists by meaning and reports unreadable matrices', () => {
    expect(GOLD_CHECKERS['Pure Nash']!(pd, '[[1, 1]]')).toEqual({ computed: '[[1, 1]]', agrees: true });
    expect(GOLD_CHECKERS['Pure Nash']!(pd, '[]')).toEqual({ computed: '[[1, 1]]', agrees: false });
    expect(GOLD_CHECKERS.PTE!(pd, '[[0, 0]]')).toEqual({ computed: '[[0, 0]]', agrees: true });
    expect(GOLD_CHECKERS['Pure Nash']!(matrices('[[3, 0], [5]]', '[[3, 5], [0, 1]]'), '[]')).toEqual({ unparsed: 'game.row: row 1 must have 2 entries' });
    expect(GOLD_CHECKERS['Pure Nash']!('no matrices here', '[]')).toHaveProperty('unparsed');
  });

  it('maps the Condorcet winner and "no winner" to their options', () => {
    const prompt = (lines: string) => `${lines}\n\nOptions:\nOption 1: Candidate A\nOption 2: Candidate B\nOption 3: There is no Condorcet winner`;
    expect(GOLD_CHECKERS['Condorcet Criterion']!(prompt('- 3 voters voted for A > B\n- 2 voters voted for B > A'), 'Option 1: Candidate A')).toEqual({
      computed: 'Option 1: Candidate A',
      agrees: true,
      evidence: 'head-to-head votes A-B 3-2: A beats every other candidate',
    });
    expect(GOLD_CHECKERS['Condorcet Criterion']!(prompt('- 2 voters voted for A > B\n- 2 voters voted for B > A'), 'Option 1: Candidate A')).toEqual({
      computed: 'Option 3: There is no Condorcet winner',
      agrees: false,
      evidence: 'head-to-head votes A-B 2-2: no candidate beats every other',
    });
  });

  it('expects the same choice again from an exponential discounter', () => {
    const prompt = (chosen: string) =>
      `Suppose you chose between receiving 61 dollars today or 80 dollars tomorrow and chose ${chosen}. Would you rather be given 61 dollars 30 days from now or 80 dollars 31 days from now?\n\nOptions:\nOption 1: 61 dollars 30 days from now\nOption 2: 80 dollars 31 days from now`;
    expect(GOLD_CHECKERS['Time Inconsistency']!(prompt('$80 tomorrow'), 'Option 2: 80 dollars 31 days from now')).toEqual({
      computed: 'Option 2: 80 dollars 31 days from now',
      agrees: true,
    });
    expect(GOLD_CHECKERS['Time Inconsistency']!(prompt('61 dollars today'), 'Option 2: 80 dollars 31 days from now')).toEqual({
      computed: 'Option 1: 61 dollars 30 days from now',
      agrees: false,
    });
  });
});
