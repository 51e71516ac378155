import { join } from 'node:path';
import { importDataset, type ProblemRow } from '../dataset/recon-dataset';
import { condorcetWinner } from '../solvers/voting';
import { checkGoldRows } from './check-rows';
import { GOLD_CHECKERS } from './checkers';

const DATA = join(__dirname, '../../../../../shared/recon-data');
const rows = (file: string) => importDataset(join(DATA, file)).rows as ProblemRow[];

describe('partial Condorcet ballots, read two ways', () => {
  // 3 voters list only A; 2 rank B > C > A; 1 ranks A > B > C.
  const ballots = [
    { voters: 3, ranking: ['A'] },
    { voters: 2, ranking: ['B', 'C', 'A'] },
    { voters: 1, ranking: ['A', 'B', 'C'] },
  ];
  it('ranks unlisted candidates below the listed ones, or leaves the pair to the other ballots', () => {
    expect(condorcetWinner(['A', 'B', 'C'], ballots).winner).toBe('A'); // A-B 4-2, A-C 4-2
    expect(condorcetWinner(['A', 'B', 'C'], ballots, 'abstain').winner).toBe('B'); // B-A 2-1, B-C 3-0
  });

  it('gives the checker a second reading when a ballot leaves a candidate out', () => {
    const prompt = `- 3 voters voted for A\n- 2 voters voted for B > C > A\n- 1 voter voted for A > B > C\n\nOptions:\nOption 1: Candidate A\nOption 2: Candidate B\nOption 3: There is no Condorcet winner`;
    expect(GOLD_CHECKERS['Condorcet Criterion']!(prompt, 'Option 1: Candidate A')).toMatchObject({
      computed: 'Option 1: Candidate A',
      agrees: true,
      otherReading: { computed: 'Option 2: Candidate B', agrees: false },
    });
    const row = {
      index: 0,
      messages: [{ role: 'user', content: `Which is the Condorcet winner?\n${prompt}` }],
      gold: 'Option 1: Candidate A',
    };
    const [finding] = checkGoldRows([row as ProblemRow]).disagreements;
    expect(finding).toMatchObject({
      verdict: 'reading-dependent',
      computed: 'Option 1: Candidate A | Option 2: Candidate B',
    });
    expect(finding).not.toHaveProperty('correction');
  });
});

describe('checkGoldRows on the real Recon data', () => {
  const train = checkGoldRows(rows('train_dataset.csv'));
  const evalSet = checkGoldRows(rows('eval_dataset.csv'));
  const wrong = [...train.disagreements, ...evalSet.disagreements].filter((d) => d.verdict === 'disagrees');

  it('finds the 12 Condorcet golds that no reading of the ballots gives, 8 of them with one answer', () => {
    expect(wrong).toHaveLength(12);
    expect(wrong.every((d) => d.category === 'Condorcet Criterion')).toBe(true);
    expect(wrong.filter((d) => d.correction !== undefined)).toHaveLength(8);
    expect(
      evalSet.disagreements
        .filter((d) => d.verdict === 'disagrees')
        .map((d) => [d.rowIndex, d.gold, d.correction]),
    ).toEqual([
      [194, 'Option 1: Nominee W', 'Option 4: There should be a tie'],
      [196, 'Option 1: Place R', 'Option 4: There is no Condorcet winner'],
    ]);
    expect(wrong.find((d) => d.rowIndex === 194)!.evidence).toMatch(/head-to-head votes .*W-B 66-32/);
  });

  it('keeps a gold that one reading gives as reading-dependent (eval line 199)', () => {
    // Row 197 is on CSV line 199 (a header line, then one line per row).
    expect(evalSet.disagreements.find((d) => d.rowIndex === 197)).toMatchObject({
      verdict: 'reading-dependent',
      gold: 'Option 4: Composer K',
    });
    expect(evalSet.categories.find((c) => c.category === 'Pure Nash')).toEqual({
      category: 'Pure Nash',
      checked: 20,
      agreed: 20,
      disagreed: 0,
      unparsed: 0,
    });
  });
});
