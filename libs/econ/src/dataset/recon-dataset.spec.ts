import { resolve } from 'node:path';
import { existsSync } from 'node:fs';
import { DatasetImportError, importDataset, type ProblemRow, type TraceRow } from './recon-dataset';

const DATA = resolve(__dirname, '../../../../../shared/recon-data');
const real = existsSync(DATA) ? describe : describe.skip;

real('importing the real Recon files', () => {
  it.each([
    ['train_dataset.csv', 1800],
    ['eval_dataset.csv', 300],
  ])('%s imports %i rows with zero rejections', (file, count) => {
    const dataset = importDataset(resolve(DATA, file));
    expect(dataset.rejected).toEqual([]);
    expect(dataset.rows).toHaveLength(count);
    expect(importDataset(resolve(DATA, file)).versionHash).toBe(dataset.versionHash);
  });

  it('reads prompts as chat messages and classifies every gold shape', () => {
    const rows = importDataset(resolve(DATA, 'eval_dataset.csv')).rows as ProblemRow[];
    expect(rows[0].messages[0].role).toBe('user');
    expect(rows[0].messages[0].content).toContain('\\boxed{Option X: full choice text}');
    const shapes = rows.reduce<Record<string, number>>((acc, r) => ({ ...acc, [r.goldShape]: (acc[r.goldShape] ?? 0) + 1 }), {});
    expect(shapes).toEqual({ option: 220, 'pure-nash': 40, 'yes-no': 20, ordering: 20 });
    expect(rows.filter((r) => r.gold.startsWith('Option 1')).length).toBe(139);
  });

  it('rejects the two CoT traces without a box after </think> (data findings), importing 864 with skipInvalid', () => {
    const file = resolve(DATA, 'sft_cot_dataset.csv');
    expect(() => importDataset(file)).toThrow(DatasetImportError);
    const dataset = importDataset(file, { skipInvalid: true });
    expect(dataset.rows).toHaveLength(864);
    expect(dataset.rejected.map((r) => [r.line, r.reason])).toEqual([
      [1784, 'response has no \\boxed{} answer after </think>'],
      [29918, 'response has no \\boxed{} answer after </think>'],
    ]);
  });

  it('takes the CoT gold from the response box', () => {
    const rows = importDataset(resolve(DATA, 'sft_cot_dataset.csv'), { skipInvalid: true }).rows as TraceRow[];
    expect(rows[0].response).toContain('</think>');
    expect(rows[0].gold).toMatch(/^Option \d/);
  });
});

describe('invalid rows', () => {
  const csv = [
    'prompt,answer',
    `"[{'role': 'user', 'content': 'Question one'}]",Option 1: yes`,
    `"[{'role': 'user', 'content': 'unterminated}]",Yes`,
    `"[{'role': 'robot', 'content': 'x'}]",No`,
    `"[{'role': 'user', 'content': 'multi`,
    `line'}]","A, B, C, D"`,
    `"[{'role': 'user', 'content': 'q'}]",forty-two`,
  ].join('\n');

  it('reports each rejected row with file, line and reason, and imports nothing by default', () => {
    let error: DatasetImportError | undefined;
    try {
      importDataset('bad.csv', { text: csv });
    } catch (caught) {
      error = caught as DatasetImportError;
    }
    expect(error).toBeInstanceOf(DatasetImportError);
    expect(error!.rejected.map((r) => [r.line, r.reason.split(':')[0]])).toEqual([
      [3, 'prompt is not a Python literal list of messages'],
      [4, 'prompt'],
      [5, 'prompt is not a Python literal list of messages'],
      [7, "answer 'forty-two' has none of the known gold shapes (Option N, Yes/No, ordering, pure-Nash list)"],
    ]);
    expect(error!.message).toMatch(/^bad\.csv: 4 invalid row\(s\), nothing imported/);
  });

  it('imports the valid rows with skipInvalid and counts the rest', () => {
    const dataset = importDataset('bad.csv', { text: csv, skipInvalid: true });
    expect(dataset.rows.map((r) => (r as ProblemRow).gold)).toEqual(['Option 1: yes']);
    expect(dataset.rejected).toHaveLength(4);
  });

  it('gives CSV and JSONL of the same rows the same version, and names bad JSONL lines', () => {
    const fromCsv = importDataset('a.csv', { text: `prompt,answer\n"[{'role': 'user', 'content': 'q'}]",Yes\n` });
    const fromJsonl = importDataset('a.jsonl', { text: '{"messages":[{"role":"user","content":"q"}],"answer":"Yes"}\n' });
    expect(fromJsonl.versionHash).toBe(fromCsv.versionHash);
    expect(() => importDataset('b.jsonl', { text: '{"answer":\n' })).toThrow(/line 1: invalid JSON/);
  });

  it('names a missing column', () => {
    expect(() => importDataset('c.csv', { text: 'question,answer\nq,Yes\n' })).toThrow(/line 1: missing column\(s\) prompt/);
  });
});

describe('malformed CSV', () => {
  it('names the line where the CSV cannot be read', () => {
    expect(() => importDataset('d.csv', { text: 'prompt,answer\n"[1]",Yes\n"open,No\n' })).toThrow(/^d\.csv: 1 invalid row.*\n {2}line \d+: malformed CSV/s);
  });
});
