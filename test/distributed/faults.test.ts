import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { PayloadOf } from '@recon/contracts';
import { auditStream, type RecordedEvent } from '@recon/eventlog';
import { openPlatform, type Platform } from '@recon/persistence';
import { startOwnBroker, type OwnBroker } from '../support/own-broker';
import { startOwnPostgres, type OwnPostgres } from '../support/own-postgres';
import { waitFor as until } from '../support/prometheus';

/**
 * Faults of the components the services depend on, under `recon up`: the Kafka broker restarted and
 * PostgreSQL stopped for a few seconds, each in the middle of GRPO. Both are this file's own (a broker on
 * free ports, an embedded PostgreSQL), never the broker and server other suites share.
 */
const BIN = resolve(__dirname, '../../bin/recon');
const CONFIG = `
name: faults
seed: 23
datasets:
  curriculum: { trainItems: 100, testItems: 10 }
policy: { kind: builtin, dModel: 32, nLayers: 1, nHeads: 2, contextLength: 256, backend: wasm }
tokenizer: { vocabSize: 380 }
sft: { steps: 3, batchSize: 8, learningRate: 0.003 }
grpo: { steps: 3, promptsPerStep: 2, numGenerations: 4, learningRate: 0.0002, maxCompletionTokens: 16, maxGradNorm: 1.0 }
evaluation: { stages: [grpo], maxNewTokens: 8, heldOut: { items: 4 } }
`;
const ROLLOUTS = 3 * 2 * 4;
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
  services: Array<{ name: string; pid: number; restarts: number }>;
}

describe('recon up survives a restarted Kafka broker and a briefly stopped PostgreSQL', () => {
  let postgres: OwnPostgres;
  let broker: OwnBroker;
  let platform: Platform;
  let up: ChildProcess;
  let env: NodeJS.ProcessEnv;
  let configFile: string;
  let upLog = '';

  beforeAll(async () => {
    postgres = await startOwnPostgres();
    broker = await startOwnBroker();
    const home = mkdtempSync(join(tmpdir(), 'recon-faults-'));
    chmodSync(home, 0o755);
    configFile = join(home, 'faults.yaml');
    writeFileSync(configFile, CONFIG);
    platform = await openPlatform({
      databaseUrl: postgres.url,
      migrations: 'auto',
      home,
      blobDir: join(home, 'blobs'),
    });
    env = {
      ...process.env,
      DATABASE_URL: postgres.url,
      RECON_HOME: home,
      RECON_BLOB_DIR: join(home, 'blobs'),
      KAFKA_BROKERS: broker.brokers.join(','),
      RECON_KAFKA_NAMESPACE: `faults-${randomBytes(4).toString('hex')}`,
      RECON_BACKEND: 'wasm',
    };
    up = spawn(process.execPath, [BIN, 'up', '--base-port', '0', '--ready-timeout', '90'], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    up.stdout!.on('data', (chunk: Buffer) => (upLog += chunk.toString()));
    up.stderr!.on('data', (chunk: Buffer) => (upLog += chunk.toString()));
    await until(
      'recon up to report every service ready',
      async () => (upLog.includes('ready: 6 services') ? true : undefined),
      120_000,
    );
  }, 180_000);

  afterAll(async () => {
    if (up && up.exitCode === null) {
      up.kill('SIGTERM');
      await new Promise((r) => up.once('exit', r));
    }
    await platform?.close();
    await broker?.destroy();
    await postgres?.destroy();
    if (process.env.RECON_FAULTS_LOG) writeFileSync(process.env.RECON_FAULTS_LOG, upLog);
    if (env?.RECON_HOME) rmSync(env.RECON_HOME, { recursive: true, force: true });
  }, 90_000);

  const state = () => JSON.parse(readFileSync(join(env.RECON_HOME!, 'up.json'), 'utf8')) as UpState;
  const submit = (runId: string) => {
    const child = spawn(
      process.execPath,
      [BIN, 'run', configFile, '--submit', '--run-id', runId, '--no-progress', '--json'],
      {
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
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
  const grpoStarted = (runId: string) =>
    until(
      `GRPO of ${runId} to start`,
      async () =>
        (await platform.eventStore.readStream(runId, { types: ['rollouts.requested'] })).length > 0
          ? true
          : undefined,
      240_000,
    );
  const fingerprint = (list: RecordedEvent[]) =>
    list
      .filter((e) => REPRODUCIBLE.has(e.type))
      .map((e) => `${e.type} ${e.payloadHash}`)
      .sort();
  const checkNothingTwiceOrLost = (list: RecordedEvent[]) => {
    expect(new Set(list.map((e) => e.eventId)).size).toBe(list.length);
    for (const type of ['rollout.generated', 'reward.scored'] as const) {
      const ids = list
        .filter((e) => e.type === type)
        .map((e) => (e.payload as PayloadOf<typeof type>).rolloutId);
      expect([type, ids.length, new Set(ids).size]).toEqual([type, ROLLOUTS, ROLLOUTS]);
    }
  };
  const restarts = () => Object.fromEntries(state().services.map((s) => [s.name, s.restarts]));
  let undisturbed: RecordedEvent[] = [];

  it('an undisturbed run completes (the reference)', async () => {
    expect(await submit('undisturbed')).toEqual({ code: 0, status: 'completed' });
    undisturbed = await platform.eventStore.readStream('undisturbed');
    checkNothingTwiceOrLost(undisturbed);
    expect((await auditStream(platform.pool, 'undisturbed')).ok).toBe(true);
  }, 300_000);

  it('the Kafka broker restarted mid-GRPO: the run completes with the payloads of the undisturbed one', async () => {
    const runId = 'kafka-restarted';
    const finished = submit(runId);
    await grpoStarted(runId);
    await broker.stop();
    await broker.start();
    expect(await finished).toEqual({ code: 0, status: 'completed' });
    const disturbed = await platform.eventStore.readStream(runId);
    checkNothingTwiceOrLost(disturbed);
    expect(fingerprint(disturbed)).toEqual(fingerprint(undisturbed));
    expect((await auditStream(platform.pool, runId)).ok).toBe(true);
    // kafkajs restarts its consumers itself; services `recon up` restarted, if any, are logged (informational).
    console.log(`service restarts after the broker restart: ${JSON.stringify(restarts())}`);
  }, 300_000);

  it('PostgreSQL stopped for a few seconds mid-GRPO: the services retry and the run completes the same', async () => {
    const runId = 'postgres-stopped';
    const before = restarts();
    const finished = submit(runId);
    await grpoStarted(runId);
    await postgres.stop();
    await new Promise((r) => setTimeout(r, 4000));
    await postgres.start();
    expect(await finished).toEqual({ code: 0, status: 'completed' });
    const disturbed = await platform.eventStore.readStream(runId);
    checkNothingTwiceOrLost(disturbed);
    expect(fingerprint(disturbed)).toEqual(fingerprint(undisturbed));
    expect((await auditStream(platform.pool, runId)).ok).toBe(true);
    // They waited the outage out (retries), rather than dying and being restarted by `recon up`.
    expect(restarts()).toEqual(before);
  }, 300_000);
});
