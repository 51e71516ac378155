import { partitionKeyOf } from '@recon/contracts';
import { deterministicEventId, type NewEvent, type RecordedEvent } from '@recon/eventlog';
import { createScratchPlatform, datasetStreamId, type ScratchPlatform } from '@recon/persistence';
import { InProcessEventBus, type EventBus } from '@recon/transport';
import { defineReward } from './define-reward';
import { RewardWorker } from './reward-worker';

const PRODUCER = { service: 'reward', version: 'spec', instance: 'jest' } as const;
const POLICY = 'f'.repeat(64);
const length = defineReward<unknown>({
  id: 'length',
  version: '1.0.0',
  score: ({ completion }) => ({ total: completion.length, components: { chars: completion.length } }),
});

async function until(predicate: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 400; i += 1) {
    if (await predicate()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error('timed out');
}

/**
 * A bus whose members are delivered only the rollouts of some keys, as a Kafka member is delivered those of
 * its partitions: `held` are the keys its assignment names (what Consumer.delivers answers), `handed` the
 * keys it is actually handed (a partition it holds may not have been fetched yet: `held` but not `handed`).
 */
function keyScoped(bus: InProcessEventBus, held: (key: string) => boolean, handed = held): EventBus {
  const keyOf = (e: Pick<RecordedEvent, 'streamId' | 'type' | 'payload'>) => partitionKeyOf(e);
  const isRollout = (e: Pick<RecordedEvent, 'type'>) => e.type === 'rollout.generated';
  return {
    subscribe: async (options, handler) => {
      const consumer = await bus.subscribe(options, (e) =>
        !isRollout(e) || handed(keyOf(e)) ? handler(e) : Promise.resolve(),
      );
      return {
        group: consumer.group,
        stop: () => consumer.stop(),
        delivers: (e) => !isRollout(e) || held(keyOf(e)),
      };
    },
    close: () => bus.close(),
  };
}
/** The rollout key of group index i (partitionKeyOf). */
const rolloutKey = (runId: string, i: number) => `${runId}#rollout-${i}`;

describe('RewardWorker: the rollouts of one append are scored in as few appends as delivery allows', () => {
  let platform: ScratchPlatform;
  let versionHash: string;
  beforeAll(async () => {
    platform = await createScratchPlatform();
    const rows = [{ prompt: 'a' }, { prompt: 'b' }];
    const blobHash = await platform.blobStore.put(JSON.stringify({ kind: 'problems', rows }));
    versionHash = blobHash;
    await platform.eventStore.append(
      datasetStreamId(versionHash),
      [
        {
          type: 'dataset.registered',
          payload: {
            name: 'spec',
            versionHash,
            blobHash,
            rowCount: 2,
            source: 'spec',
            format: 'generated',
            split: 'train',
          },
        },
      ],
      { expectedVersion: 'any', producer: PRODUCER },
    );
  });
  afterAll(async () => {
    await platform.close();
  });

  /** A run with one step of 2 prompts x 3 rollouts, the rollouts in one append as the rollout worker makes it. */
  async function recordRun(runId: string): Promise<RecordedEvent[]> {
    const [, request] = await platform.eventStore.append(
      runId,
      [
        {
          type: 'run.requested',
          payload: {
            name: runId,
            config: {
              name: runId,
              datasets: { curriculum: {} },
              policy: { kind: 'builtin' },
              rewards: [{ id: 'length' }],
            },
            configHash: 'c'.repeat(64),
            seed: 1,
            requestedBy: 'jest',
            codeVersion: 'spec',
          },
        },
        {
          type: 'rollouts.requested',
          payload: {
            step: 1,
            policyVersion: POLICY,
            groupSize: 3,
            seed: 1,
            sampling: { temperature: 1, topP: 1, topK: 0, maxTokens: 8, stop: [] },
            prompts: [
              { promptId: 'p0', datasetVersion: versionHash, rowIndex: 0 },
              { promptId: 'p1', datasetVersion: versionHash, rowIndex: 1 },
            ],
          },
        },
      ],
      { expectedVersion: 'no-stream', producer: PRODUCER },
    );
    const rollouts: NewEvent[] = [0, 1, 2, 3, 4, 5].map((i) => ({
      type: 'rollout.generated',
      causationId: request.eventId,
      payload: {
        rolloutId: `1/p${Math.floor(i / 3)}/${i % 3}`,
        step: 1,
        promptId: `p${Math.floor(i / 3)}`,
        groupIndex: i % 3,
        policyVersion: POLICY,
        seed: i,
        completion: 'x'.repeat(i + 1),
        completionTokens: i + 1,
        truncated: false,
        finishReason: 'eos',
      },
      meta: { generationMs: 1, batchSize: 6, batchIndex: i, shard: 0 },
    }));
    return platform.eventStore.append(runId, rollouts, { expectedVersion: 'any', producer: PRODUCER });
  }

  const scores = (runId: string) => platform.eventStore.readStream(runId, { types: ['reward.scored'] });
  /** The scores' rollout ids, one array per append (an append's events share their occurredAt). */
  const appends = (events: RecordedEvent[]) => {
    const byAppend = new Map<string, string[]>();
    for (const e of events)
      byAppend.set(e.occurredAt, [
        ...(byAppend.get(e.occurredAt) ?? []),
        (e.payload as { rolloutId: string }).rolloutId,
      ]);
    return [...byAppend.values()];
  };

  async function scoreWith(bus: EventBus, runId: string, expected = 6): Promise<RecordedEvent[]> {
    const worker = new RewardWorker(length, { ...platform, bus, producer: PRODUCER });
    await worker.start();
    try {
      await until(async () => (await scores(runId)).length >= expected);
      await new Promise((r) => setTimeout(r, 100));
    } finally {
      await worker.stop();
    }
    return scores(runId);
  }

  it('on a bus that hands each member every key: one append, in rollout order, causes and ids as one by one', async () => {
    const rollouts = await recordRun('every-key');
    const bus = new InProcessEventBus(platform.eventStore, platform.pool, { pollMs: 20 });
    const scored = await scoreWith(bus, 'every-key');
    await bus.close();
    expect(appends(scored)).toEqual([['1/p0/0', '1/p0/1', '1/p0/2', '1/p1/0', '1/p1/1', '1/p1/2']]);
    expect(scored.map((e) => e.causationId)).toEqual(rollouts.map((r) => r.eventId));
    expect(scored.map((e) => e.eventId)).toEqual(
      rollouts.map((r) =>
        deterministicEventId(
          'every-key',
          'reward.scored',
          (r.payload as { rolloutId: string }).rolloutId,
          'length',
          '1.0.0',
        ),
      ),
    );
    expect(scored.map((e) => (e.payload as { total: number }).total)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('a member delivered rollouts by key that holds every key scores the whole append at once', async () => {
    await recordRun('all-keys');
    const bus = new InProcessEventBus(platform.eventStore, platform.pool, { pollMs: 20 });
    const scored = await scoreWith(
      keyScoped(bus, () => true),
      'all-keys',
    );
    await bus.close();
    expect(appends(scored)).toEqual([['1/p0/0', '1/p0/1', '1/p0/2', '1/p1/0', '1/p1/1', '1/p1/2']]);
  });

  it("a member holding some keys scores those keys' rollouts together, and another key's on its delivery", async () => {
    await recordRun('some-keys');
    const bus = new InProcessEventBus(platform.eventStore, platform.pool, { pollMs: 20 });
    // Holds the partitions of keys 0 and 1; key 2's rollouts are handed to it all the same (moved to it).
    const held = new Set([rolloutKey('some-keys', 0), rolloutKey('some-keys', 1)]);
    const scored = await scoreWith(
      keyScoped(
        bus,
        (key) => held.has(key),
        () => true,
      ),
      'some-keys',
    );
    await bus.close();
    expect(appends(scored)).toEqual([
      ['1/p0/0', '1/p0/1', '1/p1/0', '1/p1/1'],
      ['1/p0/2', '1/p1/2'],
    ]);
  });

  it('includes rollouts of held keys earlier in the append than the first one handed (partitions come in any order)', async () => {
    await recordRun('earlier-keys');
    const bus = new InProcessEventBus(platform.eventStore, platform.pool, { pollMs: 20 });
    // Holds keys 1 and 2, but only key 2's partition has been fetched: its rollout (index 2) comes first.
    const held = new Set([rolloutKey('earlier-keys', 1), rolloutKey('earlier-keys', 2)]);
    const scored = await scoreWith(
      keyScoped(
        bus,
        (key) => held.has(key),
        (key) => key === rolloutKey('earlier-keys', 2),
      ),
      'earlier-keys',
      4,
    );
    await bus.close();
    expect(appends(scored)).toEqual([['1/p0/1', '1/p0/2', '1/p1/1', '1/p1/2']]);
  });

  it('records each score once when part of the batch was recorded one by one before', async () => {
    const rollouts = await recordRun('partly-scored');
    const fourth = rollouts[3];
    await platform.eventStore.append(
      'partly-scored',
      [
        {
          type: 'reward.scored',
          eventId: deterministicEventId('partly-scored', 'reward.scored', '1/p1/0', 'length', '1.0.0'),
          causationId: fourth.eventId,
          correlationId: fourth.correlationId,
          payload: {
            rolloutId: '1/p1/0',
            step: 1,
            rewardId: 'length',
            rewardVersion: '1.0.0',
            total: 4,
            components: { chars: 4 },
          },
          meta: { durationMs: 0 },
        },
      ],
      { expectedVersion: 'any', producer: PRODUCER },
    );
    const bus = new InProcessEventBus(platform.eventStore, platform.pool, { pollMs: 20 });
    const scored = await scoreWith(bus, 'partly-scored');
    await bus.close();
    expect(scored.map((e) => (e.payload as { rolloutId: string }).rolloutId).sort()).toEqual(
      ['1/p0/0', '1/p0/1', '1/p0/2', '1/p1/0', '1/p1/1', '1/p1/2'].sort(),
    );
  });
});
