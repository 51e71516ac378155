import { join } from 'node:path';
import type { PayloadOf } from '@recon/contracts';
import {
  datasetCommand,
  datasetStreamId,
  importDataset,
  listDatasets,
  loadDataset,
  withGoldCorrections,
  type ListedDataset,
} from '../../services/data/src';
import { createTestPlatform, type TestPlatform } from '../support/platform';

const DATA = join(__dirname, '../../../shared/recon-data');

describe('data quality recorded: gold corrections, skipped rows, the dataset list', () => {
  let platform: TestPlatform;
  const run = async (...args: string[]) => {
    let printed = '';
    const stores = {
      eventStore: platform.eventStore,
      blobStore: platform.blobStore,
      close: async () => undefined,
    };
    await datasetCommand(
      async () => stores,
      (text) => (printed += text),
    )
      .exitOverride()
      .parseAsync(args, { from: 'user' });
    return printed;
  };
  beforeAll(async () => {
    platform = await createTestPlatform();
  });
  afterAll(async () => {
    await platform.close();
  });

  it('records the gold check and the corrections; runs from then on get a derived version, the original stays', async () => {
    const source = await importDataset({ file: join(DATA, 'eval_dataset.csv') }, platform);
    const checked = JSON.parse(await run('check-gold', 'eval_dataset', '--correct', '--json')) as {
      corrected: Array<PayloadOf<'dataset.gold.corrected'>>;
    };
    expect(checked.corrected.map((c) => [c.rowIndex, c.originalGold, c.correctedGold, c.checker])).toEqual([
      [
        194,
        'Option 1: Nominee W',
        'Option 4: There should be a tie',
        { name: 'recon-gold-check/Condorcet Criterion', version: '1' },
      ],
      [
        196,
        'Option 1: Place R',
        'Option 4: There is no Condorcet winner',
        { name: 'recon-gold-check/Condorcet Criterion', version: '1' },
      ],
    ]);
    expect(checked.corrected[0].evidence).toMatch(/W-B 66-32/);
    // Checking again records nothing new.
    expect(JSON.parse(await run('check-gold', source.versionHash, '--correct', '--json')).corrected).toEqual(
      [],
    );
    const stream = await platform.eventStore.readStream(datasetStreamId(source.versionHash));
    expect(stream.map((e) => e.type)).toEqual([
      'dataset.registered',
      'dataset.gold.checked',
      'dataset.gold.corrected',
      'dataset.gold.corrected',
    ]);

    const corrected = await withGoldCorrections(platform, { ...source, split: 'eval' });
    expect(corrected.registration).toMatchObject({
      name: 'eval_dataset+gold-corrected',
      rowCount: 300,
      split: 'eval',
    });
    expect(corrected.registration.versionHash).not.toBe(source.versionHash);
    const rows = (await loadDataset(platform, corrected.registration.versionHash)).rows as Array<{
      gold: string;
      index: number;
    }>;
    expect([rows[194].gold, rows[196].gold, rows[194].index]).toEqual([
      'Option 4: There should be a tie',
      'Option 4: There is no Condorcet winner',
      194,
    ]);
    // The original version is unchanged: a run that resolved it is graded again under the gold it used.
    const original = (await loadDataset(platform, source.versionHash)).rows as Array<{ gold: string }>;
    expect(original[194].gold).toBe('Option 1: Nominee W');
    const [derived] = await platform.eventStore.readStream(
      datasetStreamId(corrected.registration.versionHash),
      {
        types: ['dataset.derived'],
      },
    );
    expect(derived.payload).toMatchObject({
      from: {
        kind: 'gold-corrections',
        sourceVersionHash: source.versionHash,
        corrections: [{ rowIndex: 194 }, { rowIndex: 196 }],
      },
    });
    // The same corrections give the same derived version.
    expect((await withGoldCorrections(platform, { ...source, split: 'eval' })).registration).toEqual(
      corrected.registration,
    );
  });

  it('withdraws a gold whose readings give different answers (train rows)', async () => {
    const train = await importDataset({ file: join(DATA, 'train_dataset.csv') }, platform);
    await run('check-gold', train.versionHash.slice(0, 12), '--correct');
    const corrected = await withGoldCorrections(platform, { ...train, split: 'train' });
    expect(corrected.applied).toHaveLength(10);
    expect(corrected.applied.filter((c) => c.payload.correctedGold === null)).toHaveLength(4);
    expect(corrected.registration.rowCount).toBe(1796);
  });

  it('names the rows an import skipped', async () => {
    const cot = await importDataset({ file: join(DATA, 'sft_cot_dataset.csv'), skipInvalid: true }, platform);
    expect(cot.rejected).toHaveLength(2);
    const [event] = await platform.eventStore.readStream(cot.streamId);
    expect(event.schemaVersion).toBe(2);
    const payload = event.payload as PayloadOf<'dataset.registered'> & {
      skipped: Array<{ line: number; reason: string }>;
    };
    expect(payload.skippedRows).toBe(2);
    expect(payload.skipped).toEqual(cot.rejected.map((r) => ({ line: r.line, reason: r.reason })));
  });

  it('`dataset list` shows every version with its hash, rows, skipped rows and gold corrections', async () => {
    const listed = JSON.parse(await run('list', '--json')) as ListedDataset[];
    expect(listed).toEqual(await listDatasets(platform));
    const byName = (name: string) => listed.find((d) => d.name === name)!;
    expect(byName('eval_dataset')).toMatchObject({
      rowCount: 300,
      split: 'eval',
      goldCorrections: 2,
      skippedRows: 0,
    });
    expect(byName('eval_dataset').versionHash).toMatch(/^[0-9a-f]{64}$/);
    expect(byName('sft_cot_dataset')).toMatchObject({ rowCount: 864, skippedRows: 2 });
    expect(byName('eval_dataset+gold-corrected').derivedFrom).toEqual({
      kind: 'gold-corrections',
      versions: [byName('eval_dataset').versionHash],
    });
    const text = await run('list');
    expect(text.split('\n')[0]).toMatch(
      /^name +split +format +rows +skipped +gold fixes +registered +version$/,
    );
    expect(text).toContain(byName('train_dataset').versionHash);
    await expect(run('check-gold', 'no-such-dataset')).rejects.toThrow(
      "dataset 'no-such-dataset': no registered version has that hash or name",
    );
  });
});
