import type { PayloadOf } from '@recon/contracts';
import type { RecordedEvent } from '@recon/eventlog';
import { parseExperimentConfig } from '@recon/experiment';
import { runToEnd, startEmbeddedDeployment, type EmbeddedDeployment } from '../support/embedded-deployment';

// The untrained stage only: the game suites decode its replies both ways; no training is needed for that.
const BOTH = `
name: decoding-both
seed: 3
datasets:
  curriculum: { trainItems: 80, testItems: 4, gameTrainItems: 20 }
# A tokenizer and context that hold every game prompt: a prompt that does not fit is not asked (invalid).
policy: { kind: builtin, dModel: 32, nLayers: 1, nHeads: 2, contextLength: 2048, vocabSize: 1024, backend: wasm }
tokenizer: { vocabSize: 1024, pretokenizer: phrases }
evaluation:
  stages: [untrained]
  maxNewTokens: 16
  heldOut: { items: 4 }
  completeInformation: { trials: 1, decoding: both }
  gtbench: { matches: 1, opponents: [random], decoding: both }
`;

describe('game suites with decoding: both (embedded deployment, real Postgres)', () => {
  let deployment: EmbeddedDeployment;
  beforeAll(async () => {
    deployment = await startEmbeddedDeployment();
  });
  afterAll(async () => {
    await deployment?.close();
  });

  it('plays every suite free-form and constrained, labels every event and result, and constrained play is all valid', async () => {
    await runToEnd(deployment, 'decoding-both', parseExperimentConfig(BOTH, 'both.yaml'), { timeoutMs: 170_000 });
    const events: RecordedEvent[] = await deployment.platform.eventStore.readStream('decoding-both');
    expect(events.find((e) => e.type === 'run.failed')?.payload).toBeUndefined();
    const finished = events.filter((e) => e.type === 'game.finished').map((e) => e.payload as PayloadOf<'game.finished'> & { decoding?: string });
    const by = (decoding: string, suite: string) => finished.filter((f) => f.decoding === decoding && f.suite === suite);
    for (const suite of ['complete-information', 'gtbench']) {
      expect(by('free', suite)).toHaveLength(10);
      expect(by('constrained', suite)).toHaveLength(10);
      by('constrained', suite).forEach((f) => expect(f).toMatchObject({ status: 'normal', invalidCount: 0 }));
    }
    by('constrained', 'complete-information').forEach((f) => expect(f.outcome).not.toBe('invalid'));
    // Recorded at the latest versions (game.finished v3 adds text-opponent fields; absent here).
    events
      .filter((e) => e.type === 'game.move' || e.type === 'game.finished')
      .forEach((e) => expect(e.schemaVersion).toBe(e.type === 'game.move' ? 2 : 3));
    events
      .filter((e) => e.type === 'game.move' && (e.payload as PayloadOf<'game.move'>).actor === 'agent')
      .forEach((e) => expect(['free', 'constrained']).toContain((e.payload as { decoding?: string }).decoding));
    const results = (events.find((e) => e.type === 'evaluation.completed')?.payload as PayloadOf<'evaluation.completed'>).results;
    expect(results['complete-info.overall.trials']).toBe(10);
    expect(results['complete-info-constrained.overall.trials']).toBe(10);
    expect(results['complete-info-constrained.overall.invalid']).toBe(0);
    expect(results['gtbench.overall.random.matches']).toBe(10);
    expect(results['gtbench-constrained.overall.random.matches']).toBe(10);
    expect(results['gtbench-constrained.overall.random.abnormal']).toBe(0);
  }, 240_000);

  it('records the same game events in the same order whether the suites play in one lane or two', async () => {
    // Games play in as many lanes as the pool has workers, each game's events recorded in game order.
    const oneWorker = BOTH.replace('backend: wasm }', 'backend: wasm, workers: 1 }');
    const twoWorkers = BOTH.replace('backend: wasm }', 'backend: wasm, workers: 2 }');
    const games = async (runId: string) => {
      const events = await deployment.platform.eventStore.readStream(runId);
      expect(events.find((e) => e.type === 'run.failed')?.payload).toBeUndefined();
      return events
        .filter((e) => e.type.startsWith('game.'))
        .map((e) => `${e.type} ${JSON.stringify(e.payload).split(runId).join('<run>')}`);
    };
    await runToEnd(deployment, 'lanes-1', parseExperimentConfig(oneWorker, 'one.yaml'), { timeoutMs: 170_000 });
    await runToEnd(deployment, 'lanes-2', parseExperimentConfig(twoWorkers, 'two.yaml'), { timeoutMs: 170_000 });
    const [one, two] = [await games('lanes-1'), await games('lanes-2')];
    expect(one.length).toBeGreaterThan(40);
    expect(two).toEqual(one);
  }, 400_000);
});
