import { randomBytes } from 'node:crypto';
import { Partitioners, type Kafka } from 'kafkajs';
import { LOG_CHECKPOINTS_TOPIC } from '@recon/contracts';
import type { CheckpointLine, LogCheckpoint } from '@recon/eventlog';

export { LOG_CHECKPOINTS_TOPIC };

/** The header naming a checkpoint message's sequence, so a reader can skip one without decoding it. */
export const HEADER_CHECKPOINT_SEQUENCE = 'recon-checkpoint-sequence';

/** How long reading the checkpoint topic back may take before it is reported as stuck. */
const READ_TIMEOUT_MS = 60_000;

/**
 * Creates the checkpoint topic when missing (unless RECON_KAFKA_CREATE_TOPICS=false leaves topics to the
 * Topic Operator): one partition, so every checkpoint of a database is read back in the order published, and
 * kept forever (`retention.ms=-1`, `cleanup.policy=delete`): compaction would keep only the latest message of
 * each database, while the audit checks the whole chain of them.
 */
export async function ensureCheckpointTopic(
  kafka: Kafka,
  topic: string = LOG_CHECKPOINTS_TOPIC,
  options: { replicationFactor?: number; create?: boolean } = {},
): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    if ((await admin.listTopics()).includes(topic)) return;
    const create = options.create ?? process.env.RECON_KAFKA_CREATE_TOPICS?.trim().toLowerCase() !== 'false';
    if (!create)
      throw new Error(
        `Kafka topic ${topic} does not exist, and RECON_KAFKA_CREATE_TOPICS=false leaves it to the Topic Operator (KafkaTopic resources)`,
      );
    await admin.createTopics({
      waitForLeaders: true,
      topics: [
        {
          topic,
          numPartitions: 1,
          replicationFactor: options.replicationFactor ?? 1,
          configEntries: [
            { name: 'cleanup.policy', value: 'delete' },
            { name: 'retention.ms', value: '-1' },
          ],
        },
      ],
    });
  } finally {
    await admin.disconnect();
  }
}

/**
 * Every message of the checkpoint topic, in partition then offset order, as lines to verify (each names its
 * message). A missing topic is an error naming it: nothing was ever published there.
 */
export async function readCheckpointTopic(
  kafka: Kafka,
  topic: string = LOG_CHECKPOINTS_TOPIC,
): Promise<CheckpointLine[]> {
  const admin = kafka.admin();
  await admin.connect();
  let ends: Array<{ partition: number; low: string; high: string }>;
  try {
    if (!(await admin.listTopics()).includes(topic))
      throw new Error(`Kafka topic ${topic} does not exist: no log checkpoint was published to it`);
    ends = await admin.fetchTopicOffsets(topic);
  } finally {
    await admin.disconnect();
  }
  const pending = new Map(
    ends.filter((p) => BigInt(p.high) > BigInt(p.low)).map((p) => [p.partition, BigInt(p.high) - 1n]),
  );
  if (pending.size === 0) return [];
  const lines: Array<{ partition: number; offset: bigint; line: CheckpointLine }> = [];
  // kafkajs reads only through a consumer group: a throwaway one, deleted once the topic has been read.
  const groupId = `recon-checkpoint-reader-${randomBytes(6).toString('hex')}`;
  const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 100 });
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`reading Kafka topic ${topic} took longer than ${READ_TIMEOUT_MS / 1000} s`)),
        READ_TIMEOUT_MS,
      );
      consumer.on(consumer.events.CRASH, (event) => {
        clearTimeout(timer);
        reject(event.payload.error);
      });
      consumer
        .run({
          autoCommit: false,
          eachMessage: async ({ partition, message }) => {
            const offset = BigInt(message.offset);
            lines.push({
              partition,
              offset,
              line: {
                text: message.value?.toString('utf8') ?? '',
                where: `kafka ${topic}[${partition}]@${message.offset}`,
              },
            });
            const last = pending.get(partition);
            if (last !== undefined && offset >= last) pending.delete(partition);
            if (pending.size === 0) {
              clearTimeout(timer);
              resolve();
            }
          },
        })
        .catch(reject);
    });
  } finally {
    await consumer.disconnect();
    const cleanup = kafka.admin();
    await cleanup.connect();
    await cleanup.deleteGroups([groupId]).catch(() => undefined);
    await cleanup.disconnect();
  }
  return lines
    .sort((a, b) => a.partition - b.partition || (a.offset < b.offset ? -1 : a.offset > b.offset ? 1 : 0))
    .map((entry) => entry.line);
}

/** The highest checkpoint sequence of `database` in the topic's lines (0 when none). */
export function publishedSequence(lines: readonly CheckpointLine[], database: string): number {
  let highest = 0;
  for (const { text } of lines) {
    try {
      const checkpoint = JSON.parse(text) as Partial<LogCheckpoint>;
      if (checkpoint.database === database && typeof checkpoint.sequence === 'number')
        highest = Math.max(highest, checkpoint.sequence);
    } catch {
      // A line that is not JSON is the audit's to report; here it only publishes nothing.
    }
  }
  return highest;
}

/**
 * Publishes to the topic every checkpoint the topic lacks (a sequence above the highest one it holds for
 * their database), in order, so a publish that failed earlier (the broker away when a run ended) is made
 * up by the next one. Each message is the checkpoint's JSON line, keyed by its database.
 */
export async function publishCheckpointsToTopic(
  kafka: Kafka,
  checkpoints: readonly LogCheckpoint[],
  topic: string = LOG_CHECKPOINTS_TOPIC,
): Promise<{ topic: string; published: number[] }> {
  if (checkpoints.length === 0) return { topic, published: [] };
  await ensureCheckpointTopic(kafka, topic);
  const database = checkpoints[0].database;
  const already = publishedSequence(await readCheckpointTopic(kafka, topic), database);
  const missing = checkpoints.filter((c) => c.database === database && c.sequence > already);
  if (missing.length === 0) return { topic, published: [] };
  const producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  await producer.connect();
  try {
    await producer.send({
      topic,
      acks: -1,
      messages: missing.map((checkpoint) => ({
        key: checkpoint.database,
        value: JSON.stringify(checkpoint),
        headers: { [HEADER_CHECKPOINT_SEQUENCE]: String(checkpoint.sequence) },
      })),
    });
  } finally {
    await producer.disconnect();
  }
  return { topic, published: missing.map((c) => c.sequence) };
}
