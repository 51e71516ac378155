import type { RecordedEvent } from '@recon/eventlog';
import { buildRunReport } from './run-report';

const recorded = (type: string, payload: object) =>
  ({ type, occurredAt: '2026-01-01T00:00:00.000Z', payload }) as unknown as RecordedEvent;

const hash = (c: string) => c.repeat(64);

/** Recon-Eval items of two categories: Certainty Effect's golds all Option 1, Condorcet's spread. */
const items = (stage: string) =>
  Array.from({ length: 8 }, (_, i) => {
    const certainty = i < 4;
    const gold = certainty ? 'Option 1: A' : `Option ${1 + (i % 3)}: B`;
    return recorded('evaluation.item.scored', {
      suite: 'recon-eval',
      stage,
      itemId: `row-${i}`,
      category: certainty ? 'Certainty Effect' : 'Condorcet Criterion',
      completion: '\\boxed{Option 1: A}',
      parsedAnswer: 'Option 1: A',
      gold,
      correct: gold.startsWith('Option 1'),
      verdicts: { exact: certainty, paper: gold.startsWith('Option 1') },
    });
  });

const score = (items: number, exact: number, paper: number) => ({ items, correct: { exact, paper } });

function run(): RecordedEvent[] {
  return [
    recorded('run.requested', { name: 'recon', config: { evaluation: { heldOut: { items: 8 } } }, seed: 42 }),
    recorded('dataset.quality.assessed', {
      datasets: [
        {
          role: 'eval',
          name: 'eval_dataset',
          versionHash: hash('e'),
          rowCount: 300,
          duplicatePrompts: { prompts: 4, extraRows: 4, conflictingGolds: 1, examples: [[10, 11]] },
        },
        {
          role: 'grpo',
          name: 'train_dataset+gold-corrected',
          versionHash: hash('t'),
          rowCount: 1796,
          duplicatePrompts: { prompts: 18, extraRows: 54, conflictingGolds: 0, examples: [] },
        },
      ],
      overlaps: [
        {
          train: { role: 'grpo', name: 'train_dataset+gold-corrected' },
          eval: { name: 'eval_dataset' },
          evalRows: 9,
          examples: [3, 17, 40, 41, 88, 120, 150, 201, 290],
        },
      ],
      gold: [
        {
          role: 'eval',
          name: 'eval_dataset',
          versionHash: hash('e'),
          categories: [
            { category: 'Condorcet Criterion', checked: 20, agreed: 11, disagreed: 9, unparsed: 0 },
          ],
          corrected: [
            {
              rowIndex: 194,
              from: 'Option 1: Nominee W',
              to: 'Option 4: There should be a tie',
              checker: 'recon-gold-check/Condorcet Criterion@1',
            },
          ],
          open: [
            {
              rowIndex: 196,
              category: 'Condorcet Criterion',
              gold: 'Option 1: Place R',
              verdict: 'disagrees',
              computed: 'Option 4: There is no Condorcet winner',
              correction: 'Option 4: There is no Condorcet winner',
              checker: 'recon-gold-check/Condorcet Criterion',
              evidence: 'R-S 40-60',
            },
            {
              rowIndex: 197,
              category: 'Condorcet Criterion',
              gold: 'Option 4: Composer K',
              verdict: 'reading-dependent',
              computed: 'Option 5: none | Option 4: Composer K',
              checker: 'recon-gold-check/Condorcet Criterion',
              evidence: 'K-L 30-30',
            },
          ],
        },
      ],
    }),
    recorded('dataset.resolved', {
      datasets: [
        {
          role: 'eval',
          name: 'eval_dataset',
          versionHash: hash('e'),
          blobHash: hash('e'),
          split: 'eval',
          rowCount: 300,
        },
        {
          role: 'sft',
          name: 'sft_cot_dataset',
          versionHash: hash('c'),
          blobHash: hash('c'),
          split: 'sft',
          rowCount: 864,
        },
      ],
    }),
    recorded('policy.initialised', {
      backend: { name: 'wasm' },
      modelConfig: { context: 256 },
      tokenizerHash: hash('a'),
    }),
    recorded('sft.step.completed', {
      step: 1,
      loss: 1,
      learningRate: 1,
      gradNorm: 1,
      tokens: 1,
      examples: 1,
      dataPosition: 1,
      metrics: { truncatedAtContext: 864, promptsShortened: 812 },
    }),
    ...items('sft'),
    recorded('evaluation.completed', {
      stage: 'sft',
      checkpointHash: 'sft',
      results: { 'recon-eval.items': 8 },
      baselines: [
        {
          suite: 'recon-eval',
          name: 'category-majority',
          computedOn: '`train_dataset` (1800 rows, train split)',
          answers: { 'Certainty Effect': 'A', 'Condorcet Criterion': 'B' },
          ...score(8, 5, 6),
          byCategory: { 'Certainty Effect': score(4, 4, 4), 'Condorcet Criterion': score(4, 1, 2) },
        },
        {
          suite: 'recon-eval',
          name: 'first-option',
          computedOn: 'the evaluated prompts (the first option each lists)',
          answers: {},
          ...score(8, 5, 6),
          byCategory: { 'Certainty Effect': score(4, 4, 4), 'Condorcet Criterion': score(4, 1, 2) },
        },
      ],
      samples: [
        {
          suite: 'recon-eval',
          dataset: { name: 'eval_dataset', versionHash: hash('e') },
          method: 'stratified',
          of: 300,
          items: 8,
          seed: 1234,
          byCategory: {
            'Certainty Effect': { sampled: 4, of: 20 },
            'Condorcet Criterion': { sampled: 4, of: 20 },
          },
        },
      ],
    }),
  ];
}

const section = (report: string, title: string) => {
  const start = report.indexOf(`## ${title}`);
  const end = report.indexOf('\n## ', start + 3);
  return start < 0 ? '' : report.slice(start, end < 0 ? undefined : end);
};

describe('run report: what was sampled, per-category baselines, data quality', () => {
  const report = buildRunReport('r', run());

  it('says which rows of the eval set were evaluated: N of M, per category, and the seed', () => {
    expect(section(report, 'Table 3')).toContain(
      "Evaluated: 8 of the 300 rows of `eval_dataset` at each stage, drawn stratified by category (each category its proportional share, rows drawn at random within it) with seed 1234, derived from the run's seed; sampled / rows per category: Certainty Effect 4/20, Condorcet Criterion 4/20. The other 292 rows are not evaluated.",
    );
  });

  it('gives each category its interval and trivial baselines, and flags the ones a constant answer passes', () => {
    const table3 = section(report, 'Table 3');
    expect(table3).toContain(
      '| Certainty Effect | 4 | 100.0% / 100.0% [51.0, 100.0] | 100.0% / 100.0% | 100.0% / 100.0% | Option 1: 100.0% | ⚠ majority answer 100.0%; always Option 1 100.0% |',
    );
    expect(table3).toContain(
      '| Condorcet Criterion | 4 | 0.0% / 25.0% [4.6, 69.9] | 25.0% / 50.0% | 25.0% / 50.0% | Option 2: 50.0% |  |',
    );
    expect(table3).toContain(
      '⚠ 1 of 2 categories (Certainty Effect) are answered at least 90% right by a constant answer',
    );
    expect(table3).toContain(
      '| baseline: always the first option listed ("Option 1") | 62.5% [30.6, 86.3] | 5 / 8 |',
    );
  });

  it('reports SFT traces cut at the context, duplicates, train/eval overlap and golds corrected or not', () => {
    const quality = section(report, 'Data quality');
    expect(quality).toContain(
      '- ⚠ SFT at the context of 256 tokens: **864** of the 864 rows of `sft_cot_dataset` (100.0%) are longer than the context and were cut before their end',
    );
    expect(quality).toContain(
      'SFT prompts longer than half the context, kept as their start marker and their end (where the question is): 812.',
    );
    expect(quality).toContain('| `eval_dataset` | eval | 300 | 4 | 4 | 1 |');
    expect(quality).toContain('| `train_dataset+gold-corrected` | grpo | 1796 | 18 | 54 | 0 |');
    expect(quality).toContain(
      '- ⚠ 9 of the 300 rows of `eval_dataset` ask a prompt that `train_dataset+gold-corrected` (grpo) holds verbatim (rows 3, 17, 40, 41, 88, 120, 150, 201, 290): trained on, then evaluated.',
    );
    expect(quality).toContain('| Condorcet Criterion | 20 | 11 | 9 | 0 |');
    expect(quality).toContain('row 194 "Option 1: Nominee W" → "Option 4: There should be a tie"');
    expect(quality).toContain(
      `- ⚠ 1 gold(s) wrong under every reading and **not corrected** — they still count in grading and reward (rows 196); record the corrections with \`recon dataset check-gold ${hash('e')} --correct\`.`,
    );
    expect(quality).toContain(
      '- 1 gold(s) depend on how the problem is read (e.g. ballots that leave candidates out) (rows 197): kept as they are.',
    );
  });

  it('says what it cannot tell for a run recorded before data quality was assessed', () => {
    const old = buildRunReport(
      'old',
      run().filter((e) => e.type !== 'dataset.quality.assessed'),
    );
    expect(section(old, 'Data quality')).toContain('not recorded for this run');
    expect(section(buildRunReport('none', []), 'Data quality')).toBe('');
  });
});
