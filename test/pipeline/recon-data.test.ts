import type { INestApplicationContext } from '@nestjs/common';
import { resolve } from 'node:path';
import type { PayloadOf } from '@recon/contracts';
import { canonicalJson, sha256Hex } from '@recon/eventlog';
import { parseExperimentConfig } from '@recon/experiment';
import { InProcessEventBus } from '@recon/transport';
import { startEmbeddedServices } from '../../services/api/src/run/embedded-services';
import { watchRun } from '../../services/api/src/run/watch-run';
import { createTestPlatform, type TestPlatform } from '../support/platform';
import { TEST_PRODUCER } from '../support/synthetic-run';

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
  let platform: TestPlatform;
  let bus: InProcessEventBus;
  let services: INestApplicationContext;
  beforeAll(async () => {
    platform = await createTestPlatform();
    bus = new InProcessEventBus(platform.eventStore, platform.pool, { pollMs: 50 });
    services = await startEmbeddedServices(platform, bus, { backend: 'wasm' });
  });
  afterAll(async () => {
    await services?.close();
    await bus?.close();
    await platform?.close();
  });

  it('imports the CSVs, trains on Recon-CoT (cut at the context), and grades Recon-Eval with the paper grader by category', async () => {
    const config = parseExperimentConfig(CONFIG, 'recon-data.yaml');
    const recorded = JSON.parse(JSON.stringify(config)) as Record<string, never>;
    await platform.eventStore.append(
      'real',
      [
        {
          type: 'run.requested',
          payload: {
            name: config.name,
            config: recorded,
            configHash: sha256Hex(canonicalJson(recorded)),
            seed: config.seed,
            requestedBy: 'jest',
            codeVersion: 'test',
          },
        },
      ],
      { expectedVersion: 'no-stream', producer: TEST_PRODUCER },
    );
    const outcome = await watchRun(platform.eventStore, 'real', config, {
      signal: new AbortController().signal,
      progress: false,
      failure: () => null,
      pollMs: 100,
    });
    expect(outcome).toMatchObject({ status: 'completed' });
    const events = await platform.eventStore.readStream('real');
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
