import { resolve } from 'node:path';
import type { NewEvent, RecordedEvent } from '@recon/eventlog';
import { InProcessEventBus } from '@recon/transport';
import { REWARD_REGISTRY_STREAM } from '@recon/contracts';
import { defineReward, RewardWorker } from '@recon/reward-sdk';
import { importDataset } from '../../services/data/src';
import { reconHierarchical } from '../../services/reward/src/recon-hierarchical.reward';
import { createTestPlatform, type TestPlatform } from '../support/platform';
import { TEST_PRODUCER } from '../support/synthetic-run';

const EVAL = resolve(__dirname, '../../../shared/recon-data/eval_dataset.csv');
const POLICY = 'f'.repeat(64);
const REWARD_PRODUCER = { service: 'reward', version: 'test', instance: 'jest' } as const;

/** The run's first event: its config names the rewards that score it. */
function runRequested(
  rewards: Array<{ id: string; version?: string }> = [{ id: 'recon-hierarchical' }],
): NewEvent {
  return {
    type: 'run.requested',
    payload: {
      name: 'reward-test',
      config: { name: 'reward-test', datasets: { curriculum: {} }, policy: { kind: 'builtin' }, rewards },
      configHash: 'c'.repeat(64),
      seed: 1,
      requestedBy: 'jest',
      codeVersion: 'test',
    },
  };
}

/** GRPO step 1's request for rollouts of the prompts (groups of two). */
function rolloutsRequested(
  prompts: Array<{ promptId: string; datasetVersion: string; rowIndex: number }>,
): NewEvent {
  return {
    type: 'rollouts.requested',
    payload: {
      step: 1,
      policyVersion: POLICY,
      groupSize: 2,
      seed: 1,
      sampling: { temperature: 1, topP: 1, topK: 0, maxTokens: 64, stop: [] },
      prompts,
    },
  };
}

async function until(predicate: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 400; i += 1) {
    if (await predicate()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error('timed out');
}

describe('reward service worker (SDK) on the in-process bus', () => {
  let platform: TestPlatform;
  let versionHash: string;
  beforeAll(async () => {
    platform = await createTestPlatform();
    versionHash = (await importDataset({ file: EVAL, split: 'eval' }, platform)).versionHash;
  });
  afterAll(async () => {
    await platform.close();
  });

  const rollout = (step: number, promptId: string, groupIndex: number, completion: string): NewEvent => ({
    type: 'rollout.generated',
    payload: {
      rolloutId: `${step}-${promptId}-${groupIndex}`,
      step,
      promptId,
      groupIndex,
      policyVersion: POLICY,
      seed: groupIndex,
      completion,
      completionTokens: 10,
      truncated: false,
      finishReason: 'stop',
    },
  });
  const scores = async (runId: string) =>
    (await platform.eventStore.readStream(runId, { types: ['reward.scored'] })) as RecordedEvent[];

  it('scores every rollout against its own row, once, even with two workers of the group', async () => {
    const runId = 'reward-run';
    await platform.eventStore.append(
      runId,
      [
        runRequested(),
        rolloutsRequested([
          { promptId: 'p0', datasetVersion: versionHash, rowIndex: 0 },
          { promptId: 'p240', datasetVersion: versionHash, rowIndex: 240 },
          { promptId: 'p260', datasetVersion: versionHash, rowIndex: 260 },
        ]),
        rollout(
          1,
          'p0',
          0,
          '<think>grim trigger fails at this delta</think> \\boxed{Option 1: Both firms engage in a price war every year}',
        ),
        rollout(1, 'p0', 1, '<think>r</think> \\boxed{Option 2: collude}'),
        rollout(1, 'p240', 0, '<think>r</think> \\boxed{A, D, C, B}'),
        rollout(1, 'p240', 1, 'no tags at all'),
        rollout(1, 'p260', 0, '<think>r</think> \\boxed{[]}'),
        rollout(1, 'p260', 1, '<think>r</think> nothing boxed'),
      ],
      { expectedVersion: 'no-stream', producer: TEST_PRODUCER },
    );
    const bus = new InProcessEventBus(platform.eventStore, platform.pool, { pollMs: 20 });
    const workers = [0, 1].map(
      () => new RewardWorker(reconHierarchical, { ...platform, bus, producer: REWARD_PRODUCER }),
    );
    await Promise.all(workers.map((w) => w.start()));
    await until(async () => (await scores(runId)).length >= 6);
    await new Promise((r) => setTimeout(r, 200));
    await bus.close();
    const byRollout = Object.fromEntries(
      (await scores(runId)).map((e) => [
        (e.payload as { rolloutId: string }).rolloutId,
        (e.payload as { total: number }).total,
      ]),
    );
    expect(byRollout).toEqual({
      '1-p0-0': 5,
      '1-p0-1': -3,
      '1-p240-0': 5,
      '1-p240-1': -4,
      '1-p260-0': 5,
      '1-p260-1': -5,
    });
    expect(await scores(runId)).toHaveLength(6);
  });

  it('after a restart, finds the prompt of a new rollout from the run stream', async () => {
    const bus = new InProcessEventBus(platform.eventStore, platform.pool, { pollMs: 20 });
    const worker = new RewardWorker(reconHierarchical, { ...platform, bus, producer: REWARD_PRODUCER });
    await worker.start();
    await platform.eventStore.append(
      'reward-run',
      [rollout(1, 'p240', 2, '<think>r</think> \\boxed{A, B, C, D}')],
      {
        expectedVersion: 'any',
        producer: TEST_PRODUCER,
      },
    );
    await until(async () => (await scores('reward-run')).length === 7);
    const last = (await scores('reward-run')).at(-1)!;
    expect(last.payload).toMatchObject({
      rolloutId: '1-p240-2',
      total: -3,
      rewardId: 'recon-hierarchical',
      rewardVersion: '1.0.0',
    });
    expect(last.producer.service).toBe('reward');
    await bus.close();
  });

  it('registers itself on the reward-services stream with its version and config hash', async () => {
    const registrations = await platform.eventStore.readStream(REWARD_REGISTRY_STREAM);
    expect(registrations.length).toBeGreaterThan(0);
    expect(registrations[0]).toMatchObject({
      type: 'reward.service.registered',
      payload: { rewardId: 'recon-hierarchical', rewardVersion: '1.0.0', instance: 'jest' },
    });
    expect((registrations[0].payload as { configHash: string }).configHash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('scores only the runs that name it, records reward.failed when its code throws, and answers rescores', async () => {
    const flaky = defineReward<unknown>({
      id: 'flaky',
      version: '1.0.0',
      score: ({ completion }) => {
        if (completion.includes('boom')) throw new Error('cannot parse boom');
        return { total: 1, components: { ok: 1 } };
      },
    });
    const request = (promptId: string) =>
      rolloutsRequested([{ promptId, datasetVersion: versionHash, rowIndex: 0 }]);
    const append = (stream: string, events: NewEvent[]) =>
      platform.eventStore.append(stream, events, { expectedVersion: 'any', producer: TEST_PRODUCER });
    await append('other-run', [runRequested(), request('p0'), rollout(1, 'p0', 0, 'fine')]);
    await append('flaky-run', [
      runRequested([{ id: 'flaky' }]),
      request('p0'),
      rollout(1, 'p0', 0, 'fine'),
      rollout(1, 'p0', 1, 'boom'),
    ]);
    const bus = new InProcessEventBus(platform.eventStore, platform.pool, { pollMs: 20 });
    const worker = new RewardWorker(flaky, { ...platform, bus, producer: REWARD_PRODUCER });
    await worker.start();
    const outcomes = () =>
      platform.eventStore.readStream('flaky-run', { types: ['reward.scored', 'reward.failed'] });
    await until(async () => (await outcomes()).length === 2);
    const [scored, failed] = [...(await outcomes())].sort((a, b) => a.type.localeCompare(b.type)).reverse();
    expect(scored.payload).toMatchObject({
      rolloutId: '1-p0-0',
      rewardId: 'flaky',
      total: 1,
      components: { ok: 1 },
    });
    expect(failed).toMatchObject({
      type: 'reward.failed',
      payload: { rolloutId: '1-p0-1', rewardId: 'flaky', rewardVersion: '1.0.0', error: 'cannot parse boom' },
    });
    // other-run names only recon-hierarchical: flaky leaves it alone until asked to rescore it.
    expect(
      (await scores('other-run')).filter((e) => (e.payload as { rewardId: string }).rewardId === 'flaky'),
    ).toEqual([]);
    const derived = 'other-run.rescore-flaky-1.0.0';
    await append(derived, [
      {
        type: 'rescore.requested',
        payload: {
          sourceRunId: 'other-run',
          rewardId: 'flaky',
          rewardVersion: '1.0.0',
          requestedBy: 'jest',
          rollouts: 1,
        },
      },
    ]);
    await until(async () => (await scores(derived)).length === 1);
    expect((await scores(derived))[0].payload).toMatchObject({
      rolloutId: '1-p0-0',
      rewardId: 'flaky',
      total: 1,
    });
    await bus.close();
  });
});

describe('the reward service as a NestJS module', () => {
  it('starts its workers with the application and stops them with it', async () => {
    const { Module } = await import('@nestjs/common');
    const { NestFactory } = await import('@nestjs/core');
    const { PlatformModule } = await import('@recon/service-kit');
    const { RewardModule } = await import('../../services/reward/src/reward.module');
    const platform = await createTestPlatform();
    try {
      const { versionHash } = await importDataset({ file: EVAL, split: 'eval' }, platform);
      const bus = new InProcessEventBus(platform.eventStore, platform.pool, { pollMs: 20 });
      @Module({ imports: [PlatformModule.forRoot(platform, bus), RewardModule.forRoot([])] })
      class RewardApp {}
      const app = await NestFactory.createApplicationContext(RewardApp, { logger: false });
      await app.init();
      await platform.eventStore.append(
        'module-run',
        [
          runRequested(),
          {
            type: 'rollouts.requested',
            payload: {
              step: 0,
              policyVersion: 'e'.repeat(64),
              groupSize: 1,
              seed: 0,
              sampling: { temperature: 0, topP: 1, topK: 0, maxTokens: 16, stop: [] },
              prompts: [{ promptId: 'q', datasetVersion: versionHash, rowIndex: 220 }],
            },
          },
          {
            type: 'rollout.generated',
            payload: {
              rolloutId: 'r',
              step: 0,
              promptId: 'q',
              groupIndex: 0,
              policyVersion: 'e'.repeat(64),
              seed: 0,
              completion: '<think>r</think> \\boxed{No}',
              completionTokens: 5,
              truncated: false,
              finishReason: 'stop',
            },
          },
        ],
        { expectedVersion: 'no-stream', producer: TEST_PRODUCER },
      );
      await until(
        async () =>
          (await platform.eventStore.readStream('module-run', { types: ['reward.scored'] })).length === 1,
      );
      await app.close();
      await bus.close();
      const [scored] = await platform.eventStore.readStream('module-run', { types: ['reward.scored'] });
      expect((scored.payload as { total: number }).total).toBe(5);
    } finally {
      await platform.close();
    }
  });
});
