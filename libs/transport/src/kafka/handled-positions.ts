import type { Pool } from 'pg';

/**
 * Where Kafka consumers and the relay have got to, in global log positions, kept in the consumer_offsets
 * table the in-process bus uses (rows keyed by group, topic and partition, so names never collide).
 * A partition holds its events in increasing global position (one relay publishes in log order), so an
 * event at or below a partition's handled position is a redelivery or a relay duplicate.
 */
export class HandledPositions {
  constructor(private readonly pool: Pool) {}

  static partitionKey(group: string, topic: string, partition: number): string {
    return `${group}@${topic}[${partition}]`;
  }

  static relayKey(topic: string): string {
    return `relay@${topic}`;
  }

  async get(key: string): Promise<number> {
    const result = await this.pool.query<{ global_position: string }>(
      'SELECT global_position FROM consumer_offsets WHERE consumer_group = $1',
      [key],
    );
    return Number(result.rows[0]?.global_position ?? 0);
  }

  async advance(key: string, position: number): Promise<void> {
    await this.pool.query(
      `INSERT INTO consumer_offsets (consumer_group, global_position) VALUES ($1, $2)
       ON CONFLICT (consumer_group) DO UPDATE SET global_position = GREATEST(consumer_offsets.global_position, $2)`,
      [key, position],
    );
  }
}
