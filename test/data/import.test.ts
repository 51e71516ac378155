import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatasetImportError } from '@recon/econ';
import { datasetCommand, datasetStreamId, importDataset, loadDataset } from '../../services/data/src';
import { createTestPlatform, type TestPlatform } from '../support/platform';

const DATA = join(__dirname, '../../../shared/recon-data');

describe('data service: dataset import', () => {
  let platform: TestPlatform;
  beforeAll(async () => {
    platform = await createTestPlatform();
  });
  afterAll(async () => {
    await platform.close();
  });

  it('registers the real eval file once; re-importing the same content writes nothing', async () => {
    const file = join(DATA, 'eval_dataset.csv');
    const first = await importDataset({ file }, platform);
    expect(first).toMatchObject({ registered: true, rowCount: 300, split: 'eval', name: 'eval_dataset', rejected: [] });
    const again = await importDataset({ file, name: 'another-name' }, platform);
    expect(again).toMatchObject({ registered: false, versionHash: first.versionHash, blobHash: first.blobHash, name: 'eval_dataset' });

    const events = await platform.eventStore.readStream(datasetStreamId(first.versionHash));
    expect(events.map((e) => e.type)).toEqual(['dataset.registered']);
    expect((events[0].payload as { categories: Record<string, number> }).categories).toMatchObject({ PTE: 20, 'Bayes Nash': 20 });

    const loaded = await loadDataset(platform, first.versionHash);
    expect(loaded.rows).toHaveLength(300);
    expect(loaded.kind).toBe('problems');
  });

  it('imports nothing from a file with an invalid row unless skipInvalid, then reports the count', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'recon-data-'));
    const file = join(dir, 'bad_train.csv');
    writeFileSync(
      file,
      'prompt,answer\n' +
        `"[{'role': 'user', 'content': 'Is it? Answer \\\\boxed{Yes} or No'}]",Yes\n` +
        `"[{'role': 'user', 'content': 'unterminated}]",No\n`,
    );
    const before = await platform.eventStore.headPosition();
    await expect(importDataset({ file }, platform)).rejects.toThrow(DatasetImportError);
    expect(await platform.eventStore.headPosition()).toBe(before);

    const result = await importDataset({ file, skipInvalid: true }, platform);
    expect(result).toMatchObject({ registered: true, rowCount: 1 });
    expect(result.rejected).toEqual([expect.objectContaining({ file, line: 3 })]);
    const [event] = await platform.eventStore.readStream(result.streamId);
    expect(event.payload).toMatchObject({ skippedRows: 1, split: 'train', rowCount: 1 });
  });

  it('`dataset import --json` goes through the same path', async () => {
    let printed = '';
    const stores = { eventStore: platform.eventStore, blobStore: platform.blobStore, close: async () => undefined };
    const command = datasetCommand(async () => stores, (text) => (printed += text)).exitOverride();
    await command.parseAsync(['import', join(DATA, 'train_dataset.csv'), '--json', '--name', 'recon-train'], { from: 'user' });
    expect(JSON.parse(printed)).toMatchObject({ registered: true, rowCount: 1800, split: 'train', name: 'recon-train' });
  });
});

describe('`dataset tags`', () => {
  it('prints the per-category table of the problem files in a directory', async () => {
    let printed = '';
    const command = datasetCommand(() => Promise.reject(new Error('tags needs no database')), (text) => (printed += text)).exitOverride();
    await command.parseAsync(['tags', DATA, '--json'], { from: 'user' });
    const reports = JSON.parse(printed) as Array<{ split: string; total: number; counts: Record<string, number> }>;
    expect(reports.map((r) => [r.split, r.total, r.counts.unknown])).toEqual([
      ['eval', 300, 0],
      ['train', 1800, 0],
    ]);
  });
});
