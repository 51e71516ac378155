import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  databaseIdentity,
  defaultCheckpointFile,
  loadVerifyKey,
  readLogCheckpoints,
  verifyLogCheckpoints,
} from '@recon/eventlog';
import { scratchServerUrl } from '@recon/persistence';
import { readCheckpointTopic } from '@recon/transport';
import { auditRun, checkpointTopicFromEnv, kafkaCheckpointSources, signLogCheckpoint } from '@recon/audit';
import { tamper } from '../support/attacker';
import { openKafkaTestBed, runFailed, type KafkaTestBed } from '../support/kafka';
import { runRecon } from '../support/recon-cli';

jest.setTimeout(120_000);

/**
 * Signed log checkpoints published to the Kafka topic as well as the file, against the real broker: read
 * back, they verify like the file; a publish missed while the broker was away is made up by the next one;
 * and an audit against the topic alone still catches a truncated run once the file is gone.
 */
describe('log checkpoints on the Kafka topic', () => {
  let bed: KafkaTestBed;
  let home: string;
  let databaseUrl: string;
  const namespace = `ckpt-${randomBytes(4).toString('hex')}`;
  const saved = { brokers: process.env.KAFKA_BROKERS, namespace: process.env.RECON_KAFKA_NAMESPACE };
  const signer = () => ({ pool: bed.platform.pool, home });
  /** The checkpoint file as the first test left it, before the attacker deleted it. */
  let kept = '';

  beforeAll(async () => {
    bed = await openKafkaTestBed();
    home = mkdtempSync(join(tmpdir(), 'recon-kafka-checkpoints-'));
    process.env.KAFKA_BROKERS = bed.broker.brokers.join(',');
    process.env.RECON_KAFKA_NAMESPACE = namespace;
    const url = new URL(scratchServerUrl());
    url.pathname = `/${bed.platform.databaseName}`;
    databaseUrl = url.toString();
  });

  afterAll(async () => {
    const topic = checkpointTopicFromEnv();
    process.env.KAFKA_BROKERS = saved.brokers;
    process.env.RECON_KAFKA_NAMESPACE = saved.namespace;
    if (saved.brokers === undefined) delete process.env.KAFKA_BROKERS;
    if (saved.namespace === undefined) delete process.env.RECON_KAFKA_NAMESPACE;
    await bed?.close([topic]);
    rmSync(home, { recursive: true, force: true });
  });

  it('publishes each signed checkpoint, makes up a missed one, and audits against the topic alone', async () => {
    const topic = checkpointTopicFromEnv();
    expect(topic).toBe(`${namespace}.recon.log-checkpoints`);
    await bed.append('kc-run', [runFailed(1), runFailed(2), runFailed(3)]);
    const first = await signLogCheckpoint(signer());
    expect(first.kafka).toEqual({ topic, published: [1] });

    // The broker unreachable: the checkpoint is signed into the file, the topic misses it.
    await bed.append('kc-run', [runFailed(4)]);
    process.env.KAFKA_BROKERS = '127.0.0.1:1';
    const missed = await signLogCheckpoint(signer());
    process.env.KAFKA_BROKERS = bed.broker.brokers.join(',');
    expect(missed.checkpoint.sequence).toBe(2);
    expect(missed.kafka).toMatchObject({ topic, error: expect.any(String) });

    await bed.append('kc-run', [runFailed(5), runFailed(6)]);
    const next = await signLogCheckpoint(signer());
    expect(next.kafka).toEqual({ topic, published: [2, 3] });
    // Nothing new: the topic already holds every checkpoint.
    expect((await signLogCheckpoint(signer())).kafka).toEqual({ topic, published: [] });

    const key = loadVerifyKey(home, { env: {} });
    const database = await databaseIdentity(bed.platform.pool);
    const fromFile = readLogCheckpoints(defaultCheckpointFile(home, {}), database, key);
    const lines = await readCheckpointTopic(bed.kafka, topic);
    expect(lines).toHaveLength(3);
    expect(lines[0].where).toBe(`kafka ${topic}[0]@0`);
    expect(verifyLogCheckpoints(topic, lines, database, key).checkpoints).toEqual(fromFile.checkpoints);
    // A redelivered message (a producer retry) is skipped; a line out of order is not.
    expect(verifyLogCheckpoints(topic, [...lines, lines[1]], database, key).latest?.sequence).toBe(3);
    expect(() => verifyLogCheckpoints(topic, [lines[0], lines[2]], database, key)).toThrow(
      `kafka ${topic}[0]@2: checkpoint #3 does not follow #1`,
    );

    // The attacker deletes the checkpoint file and truncates the run; the topic still holds its signed head.
    kept = readFileSync(defaultCheckpointFile(home, {}), 'utf8');
    rmSync(defaultCheckpointFile(home, {}));
    await tamper(databaseUrl, `DELETE FROM recon_events WHERE stream_id = 'kc-run' AND position > 4`);
    await tamper(
      databaseUrl,
      `UPDATE recon_streams s SET version = 4, last_hash = e.hash FROM recon_events e
        WHERE s.stream_id = 'kc-run' AND e.stream_id = 'kc-run' AND e.position = 4`,
    );
    const sources = await kafkaCheckpointSources(home, {});
    expect(sources.file).toBe(`kafka:${topic}`);
    const audit = await auditRun(bed.platform, 'kc-run', { checkpoints: sources });
    expect(audit.ok).toBe(false);
    expect(audit.chain.firstBroken).toMatchObject({ position: 5, check: 'signed-head' });
  });

  it('`recon audit --checkpoints-from-kafka` verifies a run against the topic', async () => {
    if (!existsSync(resolve(__dirname, '../../dist/apps/cli/src/main.js')))
      throw new Error('the CLI is not built: run `npm run build` (npm test does)');
    writeFileSync(defaultCheckpointFile(home, {}), kept);
    await bed.append('kc-cli', [runFailed(7), runFailed(8)]);
    expect((await signLogCheckpoint(signer())).kafka).toMatchObject({ published: [4] });
    rmSync(defaultCheckpointFile(home, {}));
    const env = {
      DATABASE_URL: databaseUrl,
      RECON_HOME: home,
      RECON_BLOB_DIR: bed.platform.blobDir,
      KAFKA_BROKERS: bed.broker.brokers.join(','),
      RECON_KAFKA_NAMESPACE: namespace,
    };
    const audit = await runRecon(['audit', 'kc-cli', '--checkpoints-from-kafka'], env);
    expect(audit.stderr).toBe('');
    expect(audit.code).toBe(0);
    expect(audit.stdout).toMatch(/signed: matches log checkpoint #4 of .* at position 2/);
    const usage = await runRecon(['audit', 'kc-cli', '--checkpoints-from-kafka', '--checkpoints', 'x'], env);
    expect(usage.code).toBe(2);
    const noKafka = await runRecon(['audit', 'kc-cli', '--checkpoints-from-kafka'], {
      ...env,
      KAFKA_BROKERS: '',
    });
    expect(noKafka.code).toBe(1);
    expect(noKafka.stderr).toContain('--checkpoints-from-kafka: KAFKA_BROKERS is not set');
  });
});
