import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Partitioners } from 'kafkajs';
import { partitionKeyOf, type PayloadOf } from '@recon/contracts';
import { auditStream, type RecordedEvent } from '@recon/eventlog';
import { DEFAULT_PARTITIONS } from '@recon/transport';
import { acquireLocalBroker, type LocalBroker } from '../../scripts/kafka/local-broker';
import { createTestPlatform, type TestPlatform } from '../support/platform';
import { waitFor as until } from '../support/prometheus';

const BIN = resolve(__dirname, '../../bin/recon');
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
const REPRODUCIBLE = new Set([
  'tokenizer.trained',
  'policy.initialised',
  'sft.step.completed',
  'checkpoint.saved',
  'rollouts.requested',
  'rollout.shard.requested',
  'rollout.generated',
  'reward.scored',
  'grpo.step.completed',
  'policy.ready',
  'evaluation.item.scored',
  'evaluation.completed',
  'run.completed',
]);

interface UpState {
  services: Array<{ name: string; service: string; port: number; pid: number; restarts: number }>;
}

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
  let up: ChildProcess;
  let env: NodeJS.ProcessEnv;
  let configFile: string;
  let upLog = '';

  beforeAll(async () => {
    platform = await createTestPlatform();
    broker = await acquireLocalBroker();
    const home = mkdtempSync(join(tmpdir(), 'recon-up-'));
    configFile = join(home, 'scaled.yaml');
    writeFileSync(configFile, CONFIG);
    env = {
      ...process.env,
      DATABASE_URL: platform.databaseUrl,
      RECON_HOME: home,
      KAFKA_BROKERS: broker.brokers.join(','),
      // Own topic and consumer groups: nothing else on the broker takes part in this deployment.
      RECON_KAFKA_NAMESPACE: `up-${randomBytes(4).toString('hex')}`,
      RECON_BACKEND: 'wasm',
    };
    up = spawn(
      process.execPath,
      [BIN, 'up', '--scale', 'rollout=2,reward=2', '--base-port', '0', '--ready-timeout', '90'],
      { env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    up.stdout!.on('data', (chunk: Buffer) => (upLog += chunk.toString()));
    up.stderr!.on('data', (chunk: Buffer) => (upLog += chunk.toString()));
    await until('recon up to report every service ready', async () => (upLog.includes('ready: 8 services') ? true : undefined), 120_000);
  }, 180_000);

  afterAll(async () => {
    if (up && up.exitCode === null) {
      up.kill('SIGTERM');
      await new Promise((r) => up.once('exit', r));
    }
    await broker?.release();
    await platform?.close();
  }, 60_000);

  const state = () => JSON.parse(readFileSync(join(env.RECON_HOME!, 'up.json'), 'utf8')) as UpState;
  const submit = (runId: string) => {
    const child = spawn(process.execPath, [BIN, 'run', configFile, '--submit', '--run-id', runId, '--no-progress', '--json'], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (err += chunk.toString()));
    return new Promise<{ code: number | null; status: string }>((r) =>
      child.once('exit', (code) => {
        let status = `no JSON outcome: ${err}`;
        try {
          status = (JSON.parse(out) as { status: string }).status;
        } catch {
          /* reported through status */
        }
        r({ code, status });
      }),
    );
  };
  const events = (runId: string) => platform.eventStore.readStream(runId);
  const fingerprint = (list: RecordedEvent[]) =>
    list
      .filter((e) => REPRODUCIBLE.has(e.type))
      .map((e) => `${e.type} ${e.payloadHash}`)
      .sort();
  const checkNothingTwice = (list: RecordedEvent[]) => {
    const rollouts = list.filter((e) => e.type === 'rollout.generated');
    const scores = list.filter((e) => e.type === 'reward.scored');
    expect(rollouts).toHaveLength(ROLLOUTS);
    expect(new Set(rollouts.map((e) => (e.payload as PayloadOf<'rollout.generated'>).rolloutId)).size).toBe(ROLLOUTS);
    expect(scores).toHaveLength(ROLLOUTS);
    expect(new Set(scores.map((e) => (e.payload as PayloadOf<'reward.scored'>).rolloutId)).size).toBe(ROLLOUTS);
  };
  let undisturbed: RecordedEvent[] = [];

  it('two rollout and two reward workers share one run through their groups; nothing is done twice', async () => {
    const runId = runIdSpreadOverTwoMembers('scaled');
    expect(await submit(runId)).toEqual({ code: 0, status: 'completed' });
    undisturbed = await events(runId);
    checkNothingTwice(undisturbed);
    const instances = (type: string) => new Set(undisturbed.filter((e) => e.type === type).map((e) => e.producer.instance));
    expect(instances('rollout.generated').size).toBe(2);
    expect(instances('reward.scored').size).toBe(2);
    expect(undisturbed.filter((e) => e.type === 'rollout.shard.requested')).toHaveLength(3 * 2);
    expect((await auditStream(platform.pool, runId)).ok).toBe(true);
  }, 300_000);

  it('kill -9 of a rollout worker mid-run: restarted, the group rebalances, the run ends as an undisturbed one', async () => {
    const runId = 'rollout-killed';
    const finished = submit(runId);
    await until(
      'GRPO step 1 to be requested',
      async () => ((await platform.eventStore.readStream(runId, { types: ['rollout.shard.requested'] })).length > 0 ? true : undefined),
      240_000,
    );
    const victim = state().services.find((s) => s.name === 'rollout-1')!;
    process.kill(victim.pid, 'SIGKILL');
    expect(await finished).toEqual({ code: 0, status: 'completed' });
    const disturbed = await events(runId);
    checkNothingTwice(disturbed);
    expect(fingerprint(disturbed)).toEqual(fingerprint(undisturbed));
    expect((await auditStream(platform.pool, runId)).ok).toBe(true);
    const restarted = state().services.find((s) => s.name === 'rollout-1')!;
    expect(restarted.restarts).toBeGreaterThanOrEqual(1);
    expect(restarted.pid).not.toBe(victim.pid);
  }, 300_000);

  it('kill -9 of the training service mid-GRPO: restarted, it resumes the run from the log', async () => {
    const runId = 'training-killed';
    const finished = submit(runId);
    await until(
      'GRPO step 1 to complete',
      async () => ((await platform.eventStore.readStream(runId, { types: ['grpo.step.completed'] })).length > 0 ? true : undefined),
      240_000,
    );
    const victim = state().services.find((s) => s.name === 'training')!;
    process.kill(victim.pid, 'SIGKILL');
    expect(await finished).toEqual({ code: 0, status: 'completed' });
    const disturbed = await events(runId);
    checkNothingTwice(disturbed);
    expect(fingerprint(disturbed)).toEqual(fingerprint(undisturbed));
    expect((await auditStream(platform.pool, runId)).ok).toBe(true);
    expect(state().services.find((s) => s.name === 'training')!.pid).not.toBe(victim.pid);
  }, 300_000);

  it('stops every service on SIGTERM', async () => {
    const pids = state().services.map((s) => s.pid);
    up.kill('SIGTERM');
    expect(await new Promise((r) => up.once('exit', r))).toBe(0);
    for (const pid of pids) expect(() => process.kill(pid, 0)).toThrow();
  }, 60_000);
});
