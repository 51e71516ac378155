import type { PayloadOf } from '@recon/contracts';
import { parseExperimentConfig } from '@recon/experiment';
import { resolveWorkerCount, sharedComputePool } from '@recon/policy-runtime';
import { runToEnd, startEmbeddedDeployment, type EmbeddedDeployment } from '../support/embedded-deployment';

const CONFIG = `
name: worker-crash
seed: 3
datasets:
  curriculum: { trainItems: 60, testItems: 10 }
policy: { kind: builtin, dModel: 32, nLayers: 1, nHeads: 2, contextLength: 256, backend: wasm, workers: 2 }
tokenizer: { vocabSize: 380 }
sft: { steps: 400, batchSize: 8, learningRate: 0.003 }
evaluation:
  stages: [sft]
  maxNewTokens: 16
  heldOut: { items: 10 }
`;

describe('a policy compute worker that dies mid-SFT', () => {
  let deployment: EmbeddedDeployment;

  beforeAll(async () => {
    deployment = await startEmbeddedDeployment();
  });
  afterAll(async () => {
    await deployment?.close();
  });

  it('fails the run with a run.failed naming the worker, instead of hanging', async () => {
    const config = parseExperimentConfig(CONFIG, 'crash.yaml');
    const store = deployment.platform.eventStore;
    const outcome = runToEnd(deployment, 'worker-crash', config, { timeoutMs: 120_000 });
    // Once SFT is under way, end worker 1 of the pool the training service uses, as a crash would.
    for (;;) {
      const steps = await store.readStream('worker-crash', { types: ['sft.step.completed'] });
      if (steps.length > 0) break;
      await new Promise((done) => setTimeout(done, 50));
    }
    const pool = await sharedComputePool({
      workers: resolveWorkerCount(2),
      backend: 'wasm',
      requirement: {},
    });
    await pool.terminateWorker(1);
    await outcome;
    const events = await store.readStream('worker-crash');
    const failed = events.find((e) => e.type === 'run.failed')?.payload as
      PayloadOf<'run.failed'> | undefined;
    expect(failed).toEqual({
      phase: 'training',
      error: expect.stringMatching(/policy compute worker 1 exited unexpectedly/),
    });
    expect(events.filter((e) => e.type === 'sft.step.completed').length).toBeLessThan(400);
    // A later run gets a fresh pool.
    expect(
      (await sharedComputePool({ workers: resolveWorkerCount(2), backend: 'wasm', requirement: {} })).broken,
    ).toBeNull();
  }, 180_000);
});
