import { resolve } from 'node:path';
import type { PayloadOf } from '@recon/contracts';
import { parseExperimentConfig } from '@recon/experiment';
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
    const results = (
      events.find((e) => e.type === 'evaluation.completed')!.payload as PayloadOf<'evaluation.completed'>
    ).results;
    expect(results['recon-eval.items']).toBe(30);
    expect(results['recon-eval.majorityBaseline']).toBeGreaterThan(0);
  }, 240_000);
});
