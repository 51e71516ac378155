import { Gauge, type Registry } from 'prom-client';

/** The part of a kafkajs Admin the lag gauge reads (offsets of the topic and of each group). */
export interface KafkaLagAdmin {
  connect(): Promise<void>;
  listGroups(): Promise<{ groups: Array<{ groupId: string }> }>;
  fetchTopicOffsets(topic: string): Promise<Array<{ partition: number; high: string; low: string }>>;
  fetchOffsets(options: {
    groupId: string;
    topics: string[];
  }): Promise<Array<{ topic: string; partitions: Array<{ partition: number; offset: string }> }>>;
}

export interface KafkaLagSource {
  admin: KafkaLagAdmin;
  topic: string;
  /** The deployment's group prefix (RECON_KAFKA_NAMESPACE); only its groups are reported, without it. */
  groupPrefix: string;
}

/**
 * Consumer lag over Kafka, as Kafka itself counts it: per group, the messages of the events topic beyond the
 * group's committed offset, summed over partitions (a partition the group never committed counts from its
 * low offset). A group that has read every partition to its end has lag 0, whatever it handled: a member
 * resolves the events it does not want too, and commits its last offsets shortly after its last batch.
 */
export function kafkaConsumerLag(source: KafkaLagSource): () => Promise<Map<string, number>> {
  let connected: Promise<void> | null = null;
  return async () => {
    connected ??= source.admin.connect().catch((error: unknown) => {
      connected = null;
      throw error;
    });
    await connected;
    const ends = await source.admin.fetchTopicOffsets(source.topic);
    const { groups } = await source.admin.listGroups();
    const lag = new Map<string, number>();
    for (const { groupId } of groups) {
      if (!groupId.startsWith(source.groupPrefix)) continue;
      const name = groupId.slice(source.groupPrefix.length);
      // Recon's group names hold no '.': such a name is another deployment's (RECON_KAFKA_NAMESPACE).
      if (name.includes('.')) continue;
      const [committed] = await source.admin.fetchOffsets({ groupId, topics: [source.topic] });
      // Every Recon group commits an offset of the topic when it starts; one with none reads another topic.
      if (!committed || committed.partitions.every((p) => Number(p.offset) < 0)) continue;
      let total = 0;
      for (const end of ends) {
        const offset = Number(committed.partitions.find((p) => p.partition === end.partition)?.offset ?? -1);
        total += Math.max(0, Number(end.high) - (offset >= 0 ? offset : Number(end.low)));
      }
      lag.set(name, total);
    }
    return lag;
  };
}

/** recon_consumer_lag_events{group} read from Kafka at scrape time (the distributed deployment). */
export function registerKafkaConsumerLag(registry: Registry, source: KafkaLagSource): void {
  const read = kafkaConsumerLag(source);
  new Gauge({
    name: 'recon_consumer_lag_events',
    help: 'Events of the events topic a consumer group has not read yet (from Kafka offsets)',
    labelNames: ['group'],
    registers: [registry],
    async collect() {
      const lag = await read();
      this.reset();
      for (const [group, value] of lag) this.set({ group }, value);
    },
  });
}
