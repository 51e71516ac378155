import { Partitioners } from 'kafkajs';
import { partitionKeyOf } from '@recon/contracts';
import { auditStream, type RecordedEvent } from '@recon/eventlog';
import { DEFAULT_PARTITIONS } from '@recon/transport';
import { acquireLocalBroker, type LocalBroker } from '../../scripts/kafka/local-broker';
import { createTestPlatform, type TestPlatform } from '../support/platform';
import {
  expectEachRolloutOnce,
  kafkaNamespace,
  makeReconHome,
  REPRODUCIBLE_UNDER_UP,
  startReconUp,
  waitForEvent,
  type ReconUp,
} from '../support/recon-up';
import { payloadFingerprint } from '../support/run-events';

const CONFIG = `
name: scaled
seed: 17
datasets:
  curriculum: { trainItems: 100, testItems: 10 }
policy: { kind: builtin, dModel: 32, nLayers: 1, nHeads: 2, contextLength: 256, backend: wasm }
tokenizer: { vocabSize: 380 }
sft: { steps: 3, batchSize: 8, learningRate: 0.003 }
grpo: { steps: 3, promptsPerStep: 4, numGenerations: 4, rolloutShards: 2, learningRate: 0.0002, maxCompletionTokens: 16, maxGradNorm: 1.0 }
evaluation: { stages: [grpo], maxNewTokens: 8, heldOut: { items: 4 } }
`;
const ROLLOUTS = 3 * 4 * 4;

/**
 * kafkajs's default partitioner and round-robin assignor: with two members, one gets the even partitions and
 * the other the odd ones. A run id whose shard and rollout keys fall on both parities makes "two workers
 * share the run" a deterministic claim rather than a likely one.
 */
function partitionOf(key: string): number {
  const partitioner = Partitioners.DefaultPartitioner();
  return partitioner({
    topic: 't',
    partitionMetadata: Array.from({ length: DEFAULT_PARTITIONS }, (_, partitionId) => ({
      partitionId,
      leader: 0,
      partitionErrorCode: 0,
      replicas: [0],
      isr: [0],
    })),
    message: { key, value: null },
  });
}
function runIdSpreadOverTwoMembers(prefix: string): string {
  for (let i = 0; ; i++) {
    const runId = `${prefix}-${i}`;
    const parity = (type: string, payload: Record<string, number>) =>
      partitionOf(partitionKeyOf({ streamId: runId, type, payload })) % 2;
    const shards = [0, 1].map((shard) => parity('rollout.shard.requested', { shard }));
    const rollouts = [0, 1, 2, 3].map((groupIndex) => parity('rollout.generated', { groupIndex }));
    if (new Set(shards).size === 2 && new Set(rollouts).size === 2) return runId;
  }
}

describe('recon up: every service its own process over Kafka, scaled out, killed and restarted', () => {
  let platform: TestPlatform;
  let broker: LocalBroker;
  let up: ReconUp;

  beforeAll(async () => {
    platform = await createTestPlatform();
    broker = await acquireLocalBroker();
    up = await startReconUp({
      home: makeReconHome('up'),
      config: { name: 'scaled', yaml: CONFIG },
      env: {
        DATABASE_URL: platform.databaseUrl,
        KAFKA_BROKERS: broker.brokers.join(','),
        // Own topic and consumer groups: nothing else on the broker takes part in this deployment.
        RECON_KAFKA_NAMESPACE: kafkaNamespace('up'),
      },
      scale: 'rollout=2,reward=2',
      services: 8,
    });
  }, 180_000);

  afterAll(async () => {
    await up?.destroy();
    await broker?.release();
    await platform?.close();
  }, 60_000);

  const events = (runId: string) => platform.eventStore.readStream(runId);
  const fingerprint = (list: RecordedEvent[]) => payloadFingerprint(list, REPRODUCIBLE_UNDER_UP);
  let undisturbed: RecordedEvent[] = [];

  it('two rollout and two reward workers share one run through their groups; nothing is done twice', async () => {
    const runId = runIdSpreadOverTwoMembers('scaled');
    expect(await up.submit(runId)).toEqual({ code: 0, status: 'completed' });
    undisturbed = await events(runId);
    expectEachRolloutOnce(undisturbed, ROLLOUTS);
    const instances = (type: string) =>
      new Set(undisturbed.filter((e) => e.type === type).map((e) => e.producer.instance));
    expect(instances('rollout.generated').size).toBe(2);
    expect(instances('reward.scored').size).toBe(2);
    expect(undisturbed.filter((e) => e.type === 'rollout.shard.requested')).toHaveLength(3 * 2);
    expect((await auditStream(platform.pool, runId)).ok).toBe(true);
  }, 300_000);

  it.each([
    {
      victim: 'rollout-1',
      runId: 'rollout-killed',
      killedAfter: 'rollout.shard.requested',
      title: 'a rollout worker mid-run: restarted, the group rebalances, the run ends as an undisturbed one',
    },
    {
      victim: 'training',
      runId: 'training-killed',
      killedAfter: 'grpo.step.completed',
      title: 'the training service mid-GRPO: restarted, it resumes the run from the log',
    },
  ])(
    'kill -9 of $title',
    async ({ victim, runId, killedAfter }) => {
      const finished = up.submit(runId);
      await waitForEvent(platform.eventStore, runId, killedAfter);
      const killed = up.service(victim);
      process.kill(killed.pid, 'SIGKILL');
      expect(await finished).toEqual({ code: 0, status: 'completed' });
      const disturbed = await events(runId);
      expectEachRolloutOnce(disturbed, ROLLOUTS);
      expect(fingerprint(disturbed)).toEqual(fingerprint(undisturbed));
      expect((await auditStream(platform.pool, runId)).ok).toBe(true);
      const restarted = up.service(victim);
      expect(restarted.restarts).toBeGreaterThanOrEqual(1);
      expect(restarted.pid).not.toBe(killed.pid);
    },
    300_000,
  );

  it('stops every service on SIGTERM', async () => {
    const pids = up.services().map((s) => s.pid);
    expect(await up.stop()).toBe(0);
    for (const pid of pids) expect(() => process.kill(pid, 0)).toThrow();
  }, 60_000);
});
