import type { PayloadOf, Producer } from '@recon/contracts';
import type { NewEvent } from '@recon/eventlog';
import type { GtbenchOpponentSetting } from '@recon/experiment';
import { createScratchPlatform, type ScratchPlatform } from '@recon/persistence';
import type { LoadedPolicy } from '@recon/policy-runtime';
import { recordedRequests, ResumingChat, suiteOpponents, type OpponentContext } from './gtbench-opponents';

const PRODUCER: Producer = { service: 'evaluation', version: 'spec', instance: 'jest' };
const STAGES = ['untrained', 'sft', 'grpo'] as const;

describe('GTBench opponents of a stage (real Postgres and blob store)', () => {
  let platform: ScratchPlatform;
  const hashes: Record<string, string> = {};

  const append = (streamId: string, events: NewEvent[]) =>
    platform.eventStore.append(streamId, events, { expectedVersion: 'any', producer: PRODUCER });
  const ready = (stage: (typeof STAGES)[number]): NewEvent => ({
    type: 'policy.ready',
    payload: { stage, step: 0, checkpointHash: hashes[stage], final: stage === 'grpo' },
  });

  beforeAll(async () => {
    platform = await createScratchPlatform();
    for (const stage of STAGES) hashes[stage] = await platform.blobStore.put(`checkpoint of ${stage}`);
    await append('run', STAGES.map(ready));
    await append('other', [ready('untrained')]);
  });
  afterAll(async () => {
    await platform?.close();
  });

  const context = (stage: string, evaluatedStages: readonly string[] = STAGES): OpponentContext => ({
    stores: platform,
    streamId: 'run',
    suite: { temperature: 0.6, maxTokens: 8 },
    loadPolicy: () => Promise.reject(new Error('not loaded in this test')) as Promise<LoadedPolicy>,
    run: { runId: 'run', stage, evaluatedStages, trainedStages: STAGES },
    env: {},
  });
  const names = async (settings: GtbenchOpponentSetting[], stage: string, evaluated?: readonly string[]) =>
    (await suiteOpponents(settings, context(stage, evaluated))).map((o) => o.name);

  it('plays a checkpoint of a stage of the same run from every stage trained after it, each pair once', async () => {
    const untrained: GtbenchOpponentSetting[] = ['random', { kind: 'checkpoint', stage: 'untrained' }];
    expect(await names(untrained, 'untrained')).toEqual(['random']);
    expect(await names(untrained, 'sft')).toEqual(['random', 'checkpoint:untrained']);
    expect(await names(untrained, 'grpo')).toEqual(['random', 'checkpoint:untrained']);
    // The listed stage, once evaluated, meets every evaluated stage before it.
    const grpo: GtbenchOpponentSetting[] = [{ kind: 'checkpoint', stage: 'grpo' }];
    expect(await names(grpo, 'sft')).toEqual([]);
    expect(await names(grpo, 'grpo')).toEqual(['checkpoint:untrained', 'checkpoint:sft']);
    expect(await names(grpo, 'grpo', ['sft', 'grpo'])).toEqual(['checkpoint:sft']);
    // Listed both ways, a pair is still played once.
    const both: GtbenchOpponentSetting[] = [
      { kind: 'checkpoint', stage: 'sft', name: 'sft-ckpt' },
      { kind: 'checkpoint', stage: 'grpo' },
    ];
    expect(await names(both, 'grpo')).toEqual(['sft-ckpt', 'checkpoint:untrained']);
  });

  it('plays another run by its ready checkpoint, and an engine under its per-game name', async () => {
    const opponents = await suiteOpponents(
      ['mcts', { kind: 'checkpoint', run: 'other', stage: 'untrained' }],
      context('sft'),
    );
    expect(opponents.map((o) => o.name)).toEqual(['mcts', 'checkpoint:other/untrained']);
    expect((await opponents[0].forGame('prisoners_dilemma', undefined))?.name).toBe('tit-for-tat');
    expect((await opponents[0].forGame('nim', undefined))?.name).toBe('mcts');
  });

  it('refuses an opponent that cannot play, naming it and why', async () => {
    const refused = (setting: GtbenchOpponentSetting, extra: Partial<OpponentContext> = {}) =>
      suiteOpponents(['random', setting], { ...context('sft'), ...extra });
    await expect(refused({ kind: 'checkpoint', run: 'nowhere', stage: 'sft' })).rejects.toThrow(
      'evaluation.gtbench.opponents[1] (checkpoint:nowhere/sft): no run nowhere in this home',
    );
    await expect(refused({ kind: 'checkpoint', run: 'other', stage: 'grpo' })).rejects.toThrow(
      'evaluation.gtbench.opponents[1] (checkpoint:other/grpo): run other has no policy ready at stage grpo (ready: untrained)',
    );
    await expect(
      refused(
        { kind: 'checkpoint', stage: 'grpo' },
        {
          run: { runId: 'run', stage: 'sft', evaluatedStages: ['sft'], trainedStages: ['untrained', 'sft'] },
        },
      ),
    ).rejects.toThrow('(checkpoint:grpo): this run trains no grpo stage (it trains untrained, sft)');
    await expect(refused({ kind: 'checkpoint', stage: 'sft' }, { run: undefined })).rejects.toThrow(
      /an external model has no stages of its own: name the run/,
    );
    const llm = {
      kind: 'openai' as const,
      baseUrl: 'http://127.0.0.1:1/v1',
      model: 'm',
      apiKeyEnv: 'NO_SUCH_KEY',
      temperature: 0.2,
      maxTokens: 8,
      concurrency: 1,
      timeoutMs: 1000,
      retries: 0,
      minBackoffMs: 1,
    };
    await expect(refused(llm)).rejects.toThrow(
      '(openai:m): the environment variable NO_SUCH_KEY (apiKeyEnv) is not set where the evaluation runs',
    );
    await expect(refused({ ...llm, apiKeyEnv: undefined, baseUrl: 'ftp://h/v1' })).rejects.toThrow(
      'baseUrl must be http or https, not ftp:',
    );
  });

  it('answers a request its stream already holds from the record, and numbers new attempts on', async () => {
    const body = JSON.stringify({ choices: [{ message: { role: 'assistant', content: '<C1R1>' } }] });
    const responseBlobHash = await platform.blobStore.put(body);
    const requestBlobHash = await platform.blobStore.put('{}');
    const call = (requestId: string, attempt: number) => ({ requestId, suite: 'gtbench' as const, attempt });
    const endpoint = 'http://127.0.0.1:1/v1/chat/completions';
    await append('resumed', [
      {
        type: 'external.request.sent',
        payload: { ...call('m/opponent#0', 1), endpoint, model: 'm', requestBlobHash },
      },
      {
        type: 'external.response.received',
        payload: {
          ...call('m/opponent#0', 1),
          outcome: 'ok',
          httpStatus: 200,
          responseBlobHash,
          latencyMs: 3,
        },
      },
      // Sent when the service stopped: no response was recorded.
      {
        type: 'external.request.sent',
        payload: { ...call('m/opponent#1', 1), endpoint, model: 'm', requestBlobHash },
      },
    ]);
    const chat = new ResumingChat(
      platform,
      'resumed',
      {
        baseUrl: 'http://127.0.0.1:1/v1',
        model: 'm',
        concurrency: 1,
        retries: 0,
        timeoutMs: 2000,
        minBackoffMs: 1,
      },
      recordedRequests(await platform.eventStore.readStream('resumed')),
    );
    const messages = [{ role: 'user' as const, content: 'move?' }];
    const before = await platform.eventStore.streamVersion('resumed');
    await expect(chat.complete('m/opponent#0', messages, { temperature: 0, maxTokens: 4 })).resolves.toBe(
      '<C1R1>',
    );
    expect(await platform.eventStore.streamVersion('resumed')).toBe(before);
    // Nothing listens on port 1: the new attempt is recorded as attempt 2 and fails.
    await expect(chat.complete('m/opponent#1', messages, { temperature: 0, maxTokens: 4 })).rejects.toThrow(
      /failed request m\/opponent#1 after 1 attempt\(s\)/,
    );
    const added = (await platform.eventStore.readStream('resumed')).slice(before);
    expect(added.map((e) => [e.type, (e.payload as PayloadOf<'external.request.sent'>).attempt])).toEqual([
      ['external.request.sent', 2],
      ['external.response.received', 2],
    ]);
  });
});
