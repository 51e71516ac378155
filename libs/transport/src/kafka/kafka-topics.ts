import type { Kafka } from 'kafkajs';
import pRetry from 'p-retry';
import { DEAD_LETTER_TOPIC, EVENTS_TOPIC } from '@recon/contracts';
import { readEnvironment } from '@recon/config';

// The topic layout (one events topic keyed by run id, one dead-letter topic) is part of the protocol, so it
// is declared in libs/contracts beside the AsyncAPI document.
export { DEAD_LETTER_TOPIC, EVENTS_TOPIC };

export const DEFAULT_PARTITIONS = 12;

export interface KafkaTopicsOptions {
  topic?: string;
  dlqTopic?: string;
  /** Partitions of the events topic when this call creates it (the upper bound on consumers per group). */
  partitions?: number;
  replicationFactor?: number;
  /**
   * Whether missing topics are created (RECON_KAFKA_CREATE_TOPICS, default true). Off where Strimzi's Topic
   * Operator owns them (the KafkaTopic resources): a missing topic is then an error naming it, retried by
   * the caller, rather than a topic created with this process's defaults.
   */
  create?: boolean;
}

/**
 * Creates the events and dead-letter topics when missing; existing topics are left as they are. Answers
 * the events topic's partition count (what a message key is hashed over).
 */
export async function ensureKafkaTopics(
  kafka: Kafka,
  options: KafkaTopicsOptions = {},
): Promise<{ partitions: number }> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const replicationFactor = options.replicationFactor ?? 1;
    const wanted = [
      {
        topic: options.topic ?? EVENTS_TOPIC,
        numPartitions: options.partitions ?? DEFAULT_PARTITIONS,
        replicationFactor,
      },
      { topic: options.dlqTopic ?? DEAD_LETTER_TOPIC, numPartitions: 1, replicationFactor },
    ].filter((t) => !existing.has(t.topic));
    const create =
      options.create ?? readEnvironment('RECON_KAFKA_CREATE_TOPICS')?.trim().toLowerCase() !== 'false';
    if (!create && wanted.length > 0)
      throw new Error(
        `Kafka topic(s) ${wanted.map((t) => t.topic).join(', ')} do not exist, and RECON_KAFKA_CREATE_TOPICS=false leaves them to the Topic Operator (KafkaTopic resources)`,
      );
    // createTopics answers false (no error) for a topic another process created meanwhile.
    if (wanted.length > 0) await admin.createTopics({ topics: wanted, waitForLeaders: true });
    // A topic that another process created (just now, with every service starting at once) may still be
    // electing its partition leaders: offsets asked of it fail with "not the leader". Wait until every
    // partition's leader answers, here, once, for every caller.
    const topics = [options.topic ?? EVENTS_TOPIC, options.dlqTopic ?? DEAD_LETTER_TOPIC];
    return await pRetry(
      async () => {
        const { topics: metadata } = await admin.fetchTopicMetadata({ topics });
        const leaderless = metadata.flatMap((t) =>
          t.partitions
            .filter((p) => p.leader < 0 || p.partitionErrorCode !== 0)
            .map((p) => `${t.name}[${p.partitionId}]`),
        );
        if (leaderless.length > 0)
          throw new Error(`Kafka partitions without a leader: ${leaderless.join(', ')}`);
        // The metadata can name a leader before that broker has taken the leadership on (KRaft applies the
        // two from the same metadata record, metadata cache first), so ask every leader for its offsets too:
        // ListOffsets is what the first subscriber sends, and it is what failed with "not the leader".
        for (const topic of topics) await admin.fetchTopicOffsets(topic);
        const events = metadata.find((t) => t.name === topics[0]);
        if (!events) throw new Error(`Kafka topic ${topics[0]}: no metadata yet`);
        return { partitions: events.partitions.length };
      },
      { retries: 20, minTimeout: 100, maxTimeout: 2000 },
    );
  } finally {
    await admin.disconnect();
  }
}
