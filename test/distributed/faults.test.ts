import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { auditStream, type RecordedEvent } from '@recon/eventlog';
import { openPlatform, type Platform } from '@recon/persistence';
import { startOwnBroker, type OwnBroker } from '../support/own-broker';
import { startOwnPostgres, type OwnPostgres } from '../support/own-postgres';
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

/**
 * Faults of the components the services depend on, under `recon up`: the Kafka broker restarted and
 * PostgreSQL stopped for a few seconds, each in the middle of GRPO. Both are this file's own (a broker on
 * free ports, an embedded PostgreSQL), never the broker and server other suites share.
 */
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

describe('recon up survives a restarted Kafka broker and a briefly stopped PostgreSQL', () => {
  let postgres: OwnPostgres;
  let broker: OwnBroker;
  let platform: Platform;
  let up: ReconUp;

  beforeAll(async () => {
    postgres = await startOwnPostgres();
    broker = await startOwnBroker();
    const home = makeReconHome('faults');
    platform = await openPlatform({
      databaseUrl: postgres.url,
      migrations: 'auto',
      home,
      blobDir: join(home, 'blobs'),
    });
    up = await startReconUp({
      home,
      config: { name: 'faults', yaml: CONFIG },
      env: {
        DATABASE_URL: postgres.url,
        RECON_BLOB_DIR: join(home, 'blobs'),
        KAFKA_BROKERS: broker.brokers.join(','),
        RECON_KAFKA_NAMESPACE: kafkaNamespace('faults'),
      },
      services: 6,
    });
  }, 180_000);

  afterAll(async () => {
    await up?.stop();
    await platform?.close();
    await broker?.destroy();
    await postgres?.destroy();
    if (process.env.RECON_FAULTS_LOG && up) writeFileSync(process.env.RECON_FAULTS_LOG, up.log());
    await up?.destroy();
  }, 90_000);

  const fingerprint = (list: RecordedEvent[]) => payloadFingerprint(list, REPRODUCIBLE_UNDER_UP);
  const checkNothingTwiceOrLost = (list: RecordedEvent[]) => expectEachRolloutOnce(list, ROLLOUTS);
  const restarts = () => Object.fromEntries(up.services().map((s) => [s.name, s.restarts]));
  let undisturbed: RecordedEvent[] = [];
  /** Submits a run, disturbs it once GRPO has started, and checks it ends as the undisturbed one did. */
  const completesUndisturbedDespite = async (runId: string, disturb: () => Promise<void>) => {
    const finished = up.submit(runId);
    await waitForEvent(platform.eventStore, runId, 'rollouts.requested');
    await disturb();
    expect(await finished).toEqual({ code: 0, status: 'completed' });
    const disturbed = await platform.eventStore.readStream(runId);
    checkNothingTwiceOrLost(disturbed);
    expect(fingerprint(disturbed)).toEqual(fingerprint(undisturbed));
    expect((await auditStream(platform.pool, runId)).ok).toBe(true);
  };

  it('an undisturbed run completes (the reference)', async () => {
    expect(await up.submit('undisturbed')).toEqual({ code: 0, status: 'completed' });
    undisturbed = await platform.eventStore.readStream('undisturbed');
    checkNothingTwiceOrLost(undisturbed);
    expect((await auditStream(platform.pool, 'undisturbed')).ok).toBe(true);
  }, 300_000);

  it('the Kafka broker restarted mid-GRPO: the run completes with the payloads of the undisturbed one', async () => {
    await completesUndisturbedDespite('kafka-restarted', async () => {
      await broker.stop();
      await broker.start();
    });
    // kafkajs restarts its consumers itself; services `recon up` restarted, if any, are logged (informational).
    console.log(`service restarts after the broker restart: ${JSON.stringify(restarts())}`);
  }, 300_000);

  it('PostgreSQL stopped for a few seconds mid-GRPO: the services retry and the run completes the same', async () => {
    const before = restarts();
    await completesUndisturbedDespite('postgres-stopped', async () => {
      await postgres.stop();
      await new Promise((r) => setTimeout(r, 4000));
      await postgres.start();
    });
    // They waited the outage out (retries), rather than dying and being restarted by `recon up`.
    expect(restarts()).toEqual(before);
  }, 300_000);
});
