import {
  databaseIdentity,
  defaultCheckpointFile,
  loadSigningKey,
  loadVerifyKey,
  publishLogCheckpoint,
  readLogCheckpoints,
  verifyLogCheckpoints,
  type CheckpointLine,
  type LogVerifyKey,
  type PublishedCheckpoint,
  type SignedLog,
} from '@recon/eventlog';
import { logLevel } from 'kafkajs';
import type { Platform } from '@recon/persistence';
import { kafkaNamesFromEnv } from '@recon/service-kit';
import {
  createKafkaClient,
  kafkaBrokersFromEnv,
  LOG_CHECKPOINTS_TOPIC,
  publishCheckpointsToTopic,
  readCheckpointTopic,
} from '@recon/transport';

/** Where a signed checkpoint went besides the file: the Kafka topic, when the process has a Kafka bus. */
export type KafkaPublication = { topic: string; published: number[] } | { topic: string; error: string };

export interface SignedCheckpoint extends PublishedCheckpoint {
  /** Null without KAFKA_BROKERS (the in-process deployment publishes to the file only). */
  kafka: KafkaPublication | null;
}

/** The checkpoint topic of this deployment (RECON_KAFKA_NAMESPACE prefixes it like the events topic). */
export function checkpointTopicFromEnv(): string {
  return `${kafkaNamesFromEnv().groupPrefix}${LOG_CHECKPOINTS_TOPIC}`;
}

function checkpointKafka(clientId: string) {
  const brokers = kafkaBrokersFromEnv();
  // Failures are reported by the callers, once, in their own words; a broker away costs seconds, not minutes.
  return brokers
    ? createKafkaClient({ clientId, brokers, logLevel: logLevel.NOTHING, retry: { retries: 2 } })
    : null;
}

/**
 * Signs a checkpoint of the platform's log with the home's signing key (created on first use, or the one
 * RECON_LOG_SIGNING_KEY / RECON_LOG_SIGNING_KEY_FILE provide) into the home's checkpoint file, and, when
 * KAFKA_BROKERS is set, publishes to the checkpoint topic every checkpoint of the file the topic lacks (a
 * failed publish is reported in `kafka.error` and made up by the next one; the file keeps the checkpoint).
 */
export async function signLogCheckpoint(
  platform: Pick<Platform, 'pool' | 'home'>,
  file = defaultCheckpointFile(platform.home),
): Promise<SignedCheckpoint> {
  const key = loadSigningKey(platform.home);
  const published = await publishLogCheckpoint(platform.pool, { file, key });
  const kafka = checkpointKafka('recon-log-checkpoints');
  if (!kafka) return { ...published, kafka: null };
  const topic = checkpointTopicFromEnv();
  try {
    const signed = readLogCheckpoints(file, published.checkpoint.database, key);
    return { ...published, kafka: await publishCheckpointsToTopic(kafka, signed.checkpoints, topic) };
  } catch (error) {
    return { ...published, kafka: { topic, error: (error as Error).message } };
  }
}

/**
 * Signs a checkpoint once a run has ended, so the run is covered without anyone asking. A log that does not
 * extend the last signed state (or an unusable key, or Kafka away) is reported, and leaves the run's own
 * outcome alone.
 */
export async function signCheckpointAfterRun(platform: Pick<Platform, 'pool' | 'home'>): Promise<void> {
  try {
    const signed = await signLogCheckpoint(platform);
    if (signed.kafka && 'error' in signed.kafka)
      process.stderr.write(
        `recon: log checkpoint #${signed.checkpoint.sequence} kept in ${signed.file} but not published to Kafka topic ${signed.kafka.topic}: ${signed.kafka.error} (the next checkpoint publishes it)\n`,
      );
  } catch (error) {
    process.stderr.write(`recon: log checkpoint not signed: ${(error as Error).message}\n`);
  }
}

/** The checkpoints an audit verifies against and the key that verifies them. */
export interface CheckpointSources {
  /** The file read, or the Kafka topic (`kafka:<topic>`) when `lines` came from there. */
  file: string;
  key: LogVerifyKey | null;
  /** Checkpoint lines already read from elsewhere than `file` (the Kafka topic). */
  lines?: CheckpointLine[];
}

/** The checkpoint file and verification key an audit uses: flags first, then the environment and the home. */
export function checkpointSources(
  home: string,
  options: { checkpoints?: string; publicKey?: string },
): CheckpointSources {
  return {
    file: options.checkpoints ?? defaultCheckpointFile(home),
    key: loadVerifyKey(home, { publicKeyFile: options.publicKey }),
  };
}

/** The checkpoints as published to this deployment's Kafka topic (`recon audit --checkpoints-from-kafka`). */
export async function kafkaCheckpointSources(
  home: string,
  options: { publicKey?: string },
): Promise<CheckpointSources> {
  const kafka = checkpointKafka('recon-audit');
  if (!kafka) throw new Error('--checkpoints-from-kafka: KAFKA_BROKERS is not set');
  const topic = checkpointTopicFromEnv();
  return {
    file: `kafka:${topic}`,
    key: loadVerifyKey(home, { publicKeyFile: options.publicKey }),
    lines: await readCheckpointTopic(kafka, topic),
  };
}

/** The verified signed state of the platform's database from the given sources. */
export async function readSignedLog(
  platform: Pick<Platform, 'pool'>,
  sources: CheckpointSources,
): Promise<SignedLog> {
  const database = await databaseIdentity(platform.pool);
  return sources.lines
    ? verifyLogCheckpoints(sources.file, sources.lines, database, sources.key)
    : readLogCheckpoints(sources.file, database, sources.key);
}
