import { resolve } from 'node:path';
import type { PayloadOf } from '@recon/contracts';
import { parseExperimentConfig } from '@recon/experiment';
import { buildRunReport } from '@recon/run-report';
import { checkDatasetGold, importDataset } from '../../services/data/src';
import { runToEnd, startEmbeddedDeployment, type EmbeddedDeployment } from '../support/embedded-deployment';

const DATA = resolve(__dirname, '../../../shared/recon-data');
const CONFIG = `
name: recon-data
seed: 3
datasets:
  recon: { path: ${JSON.stringify(DATA)} }
policy: { kind: builtin, dModel: 32, nLayers: 1, nHeads: 2, contextLength: 256, backend: wasm }
tokenizer: { vocabSize: 300 }
sft: { steps: 2, batchSize: 4, learningRate: 0.003 }
grpo: { steps: 1, promptsPerStep: 2, numGenerations: 2, learningRate: 0.0002, beta: 0, maxCompletionTokens: 8, maxGradNorm: 1.0 }
evaluation: { stages: [sft], maxNewTokens: 8, heldOut: { items: 30 } }
`;

describe('the real Recon data through the pipeline', () => {
  let deployment: EmbeddedDeployment;
  beforeAll(async () => {
    deployment = await startEmbeddedDeployment();
  });
  afterAll(async () => {
    await deployment?.close();
  });

  it('imports the CSVs, trains on Recon-CoT (cut at the context), and grades Recon-Eval with the paper grader by category', async () => {
    const config = parseExperimentConfig(CONFIG, 'recon-data.yaml');
    const outcome = await runToEnd(deployment, 'real', config);
    expect(outcome).toMatchObject({ status: 'completed' });
    const events = await deployment.platform.eventStore.readStream('real');
    const resolved = events.find((e) => e.type === 'dataset.resolved')!
      .payload as PayloadOf<'dataset.resolved'>;
    expect(resolved.datasets.map((d) => [d.role, d.rowCount])).toEqual([
      ['eval', 300],
      ['sft', 864],
      ['grpo', 1800],
    ]);
    const sft = events
      .filter((e) => e.type === 'sft.step.completed')
      .map((e) => e.payload as PayloadOf<'sft.step.completed'>);
    expect(sft[0].metrics.truncatedAtContext).toBeGreaterThan(800);
    const items = events
      .filter((e) => e.type === 'evaluation.item.scored')
      .map((e) => e.payload as PayloadOf<'evaluation.item.scored'>);
    expect(items).toHaveLength(30);
    expect(new Set(items.map((i) => i.suite))).toEqual(new Set(['recon-eval']));
    expect(items.filter((i) => i.category !== 'unknown').length).toBeGreaterThan(20);
    // Recon-Eval is stored in blocks of 20 rows per category: 30 items drawn stratified cover all 15, 2 each.
    const perCategory = new Map<string, number>();
    for (const i of items) perCategory.set(i.category, (perCategory.get(i.category) ?? 0) + 1);
    expect([...perCategory.values()]).toEqual(Array(15).fill(2));
    const results = (
      events.find((e) => e.type === 'evaluation.completed')!.payload as PayloadOf<'evaluation.completed'>
    ).results;
    expect(results['recon-eval.items']).toBe(30);
    expect(results['recon-eval.majorityBaseline']).toBeGreaterThan(0);
    const completed = events.find((e) => e.type === 'evaluation.completed')!;
    expect(completed.schemaVersion).toBe(3);
    expect((completed.payload as PayloadOf<'evaluation.completed'> & { samples: unknown[] }).samples).toEqual(
      [expect.objectContaining({ suite: 'recon-eval', method: 'stratified', of: 300, items: 30 })],
    );

    // What the data holds is recorded before training, and the report says it.
    const quality = events.find((e) => e.type === 'dataset.quality.assessed')!
      .payload as PayloadOf<'dataset.quality.assessed'>;
    expect(quality.datasets.map((d) => [d.role, d.duplicatePrompts.extraRows])).toEqual([
      ['eval', 4],
      ['sft', 38],
      ['grpo', 54],
    ]);
    expect(quality.overlaps.find((o) => o.train.role === 'grpo')?.evalRows).toBe(9);
    expect(quality.gold.flatMap((g) => g.open.filter((d) => d.verdict === 'disagrees'))).toHaveLength(12);
    const report = buildRunReport('real', events);
    expect(report).toMatch(
      /## Data quality\n\n- ⚠ SFT at the context of 256 tokens: \*\*86\d\*\* of the 864 rows of `sft_cot_dataset`/,
    );
    expect(report).toContain(
      'Evaluated: 30 of the 300 rows of `eval_dataset` at each stage, drawn stratified by category',
    );
  }, 240_000);

  it('trains on the generated curriculum and Recon together and evaluates both, with the recorded gold corrections', async () => {
    for (const file of ['eval_dataset.csv', 'train_dataset.csv']) {
      const imported = await importDataset({ file: resolve(DATA, file) }, deployment.platform);
      await checkDatasetGold(deployment.platform, imported.versionHash, { correct: true });
    }
    const config = parseExperimentConfig(
      CONFIG.replace(
        'recon: { path:',
        'curriculum: { trainItems: 40, testItems: 10, categories: [expected_value, pure_nash] }\n  recon: { path:',
      ).replace('heldOut: { items: 30 }', 'heldOut: { items: 10 }, reconEval: { items: 15 }'),
      'both.yaml',
    );
    const outcome = await runToEnd(deployment, 'both', config);
    expect(outcome).toMatchObject({ status: 'completed' });
    const events = await deployment.platform.eventStore.readStream('both');
    const resolved = events.find((e) => e.type === 'dataset.resolved')!
      .payload as PayloadOf<'dataset.resolved'>;
    expect(resolved.datasets.map((d) => [d.role, d.name, d.rowCount])).toEqual([
      ['sft', 'curriculum-train-traces+sft_cot_dataset', 40 + 864],
      ['grpo', 'curriculum-train+train_dataset+gold-corrected', 40 + 1796],
      ['eval', 'curriculum-test', 10],
      ['eval', 'eval_dataset+gold-corrected', 300],
    ]);
    const items = events
      .filter((e) => e.type === 'evaluation.item.scored')
      .map((e) => e.payload as PayloadOf<'evaluation.item.scored'>);
    expect(items.filter((i) => i.suite === 'held-out')).toHaveLength(10);
    expect(items.filter((i) => i.suite === 'recon-eval')).toHaveLength(15);
    const quality = events.find((e) => e.type === 'dataset.quality.assessed')!
      .payload as PayloadOf<'dataset.quality.assessed'>;
    expect(
      quality.gold.map((g) => [
        g.name,
        g.corrected.length,
        g.open.filter((d) => d.verdict === 'disagrees').length,
      ]),
    ).toEqual([
      ['train_dataset', 10, 0],
      ['eval_dataset', 2, 0],
    ]);
    const report = buildRunReport('both', events);
    expect(report).toContain('## Table 3 — held-out accuracy by stage');
    expect(report).toContain('## Table 3 — recon-eval accuracy by stage');
  }, 300_000);
});
