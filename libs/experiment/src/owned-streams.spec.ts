import type { PayloadOf, Producer } from '@recon/contracts';
import type { NewEvent, RecordedEvent } from '@recon/eventlog';
import { createScratchPlatform, type ScratchPlatform } from '@recon/persistence';
import { parseExperimentConfig } from './load-config';
import { ownedStreamsHandler, type OwnedStreamHandlers } from './owned-streams';
import { requestRun } from './request-run';
import type { RunRequest } from './run-config';

const PRODUCER: Producer = { service: 'api', version: 'spec', instance: 'jest' };
const CONFIG = parseExperimentConfig(
  `
name: owned
datasets:
  curriculum: { trainItems: 10, testItems: 5 }
policy: { kind: builtin, dModel: 16, nLayers: 1, nHeads: 2, contextLength: 64 }
tokenizer: { vocabSize: 300 }
sft: { steps: 1, batchSize: 2 }
evaluation: { stages: [sft], maxNewTokens: 4 }
`,
  'owned.yaml',
);

describe('ownedStreamsHandler: a consumer acts on the streams it owns and no stream stops it', () => {
  let platform: ScratchPlatform;
  beforeAll(async () => {
    platform = await createScratchPlatform();
  });
  afterAll(async () => {
    await platform?.close();
  });

  const append = (streamId: string, events: NewEvent[]) =>
    platform.eventStore.append(streamId, events, { expectedVersion: 'any', producer: PRODUCER });
  const policyReady = (step: number): NewEvent => ({
    type: 'policy.ready',
    payload: { stage: 'sft', step, checkpointHash: 'c'.repeat(64), final: false },
  });
  const requestValidRun = (runId: string) =>
    requestRun(platform.eventStore, runId, CONFIG, {
      requestedBy: 'spec',
      codeVersion: 'spec',
      producer: PRODUCER,
    });
  const failures = async (streamId: string) =>
    (await platform.eventStore.readStream(streamId, { types: ['run.failed'] })).map(
      (e) => e.payload as PayloadOf<'run.failed'>,
    );
  /** A run request as other code records it: its config is no experiment config of this code. */
  const foreignRequest = (name: string): NewEvent => ({
    type: 'run.requested',
    payload: {
      name,
      config: { sft: { steps: 1 } },
      configHash: 'a'.repeat(64),
      seed: 1,
      requestedBy: 'spec',
      codeVersion: 'other',
    },
  });
  /** A handler recording what it was called with, failing when told to. */
  const recorder = (fail?: Error) => {
    const calls: Array<{ kind: string; event: RecordedEvent; run?: RunRequest }> = [];
    const handlers: OwnedStreamHandlers = {
      run: async (event, run) => {
        calls.push({ kind: 'run', event, run });
        if (fail) throw fail;
      },
      rescore: async (event) => {
        calls.push({ kind: 'rescore', event });
      },
    };
    return { calls, handlers };
  };

  it('hands a training run its validated request, a rescore stream its events, and skips other kinds', async () => {
    await requestValidRun('owned-run');
    const [ready] = await append('owned-run', [policyReady(1)]);
    const [rescore] = await append('owned-run.rescore-x-1', [
      {
        type: 'rescore.requested',
        payload: {
          sourceRunId: 'owned-run',
          rewardId: 'x',
          rewardVersion: '1',
          requestedBy: 'spec',
          rollouts: 0,
        },
      },
    ]);
    // A stream opened by something else that later records a run-like event (a checkpoint pinned for serving).
    const [stray] = await append('served-checkpoint', [policyReady(0)]);
    const { calls, handlers } = recorder();
    const handle = ownedStreamsHandler(
      { eventStore: platform.eventStore, group: 'g', producer: PRODUCER },
      handlers,
    );
    for (const event of [ready, rescore, stray]) await handle(event);
    expect(calls.map((c) => [c.kind, c.event.streamId])).toEqual([
      ['run', 'owned-run'],
      ['rescore', 'owned-run.rescore-x-1'],
    ]);
    expect(calls[0].run).toMatchObject({ runId: 'owned-run', config: { name: 'owned' } });
    expect(await platform.eventStore.streamVersion('served-checkpoint')).toBe(1);
  });

  it('fails a live run whose recorded config this code does not accept, once, naming the group and key', async () => {
    const [request, ready] = await append('foreign-run', [foreignRequest('foreign'), policyReady(1)]);
    const { calls, handlers } = recorder();
    const handle = ownedStreamsHandler(
      { eventStore: platform.eventStore, group: 'g', producer: PRODUCER },
      handlers,
    );
    await handle(request);
    await handle(ready);
    expect(calls).toEqual([]);
    expect(await failures('foreign-run')).toEqual([
      { phase: 'g', error: expect.stringMatching(/^run foreign-run: recorded config is invalid at name/) },
    ]);
  });

  it('leaves a run recorded whole (the synthetic demo run) alone', async () => {
    // As `recon demo` records it: request (a config that is no experiment config), rollouts, end, in one append.
    const recorded = await append('demo-run', [
      foreignRequest('synthetic'),
      {
        type: 'rollout.generated',
        payload: {
          rolloutId: '1-p1-0',
          step: 1,
          promptId: 'p1',
          groupIndex: 0,
          policyVersion: 'c'.repeat(64),
          seed: 1,
          completion: 'x',
          completionTokens: 1,
          truncated: false,
          finishReason: 'stop',
        },
      },
      { type: 'run.completed', payload: { summary: {} } },
    ]);
    const { calls, handlers } = recorder();
    const handle = ownedStreamsHandler(
      { eventStore: platform.eventStore, group: 'g', producer: PRODUCER },
      handlers,
    );
    for (const event of recorded) await handle(event);
    expect(calls).toEqual([]);
    expect(await platform.eventStore.streamVersion('demo-run')).toBe(recorded.length);
  });

  it('fails the run a handler cannot process, not the group, and throws only a lost connection', async () => {
    await requestValidRun('broken-run');
    const [first, second] = await append('broken-run', [policyReady(1), policyReady(2)]);
    const broken = recorder(new Error('checkpoint blob missing'));
    const handle = ownedStreamsHandler(
      { eventStore: platform.eventStore, group: 'g', producer: PRODUCER },
      broken.handlers,
    );
    await handle(first);
    await handle(second);
    expect(await failures('broken-run')).toEqual([{ phase: 'g', error: 'checkpoint blob missing' }]);

    await requestValidRun('offline-run');
    const [ready] = await append('offline-run', [policyReady(1)]);
    const lost = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    const offline = ownedStreamsHandler(
      { eventStore: platform.eventStore, group: 'g', producer: PRODUCER },
      recorder(lost).handlers,
    );
    await expect(offline(ready)).rejects.toBe(lost);
    expect(await failures('offline-run')).toEqual([]);
  });
});
