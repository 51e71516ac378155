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

/**
 * A consumer's own handled positions and resolved Kafka offsets per partition, valid for one group
 * generation: while a member holds a partition nobody else handles it, so the position it last wrote is the
 * current one and the read at the start of each batch can be skipped. A new generation (the partition may
 * have been elsewhere) forgets them.
 */
export class GenerationPositions {
  private generation = 0;
  private readonly known = new Map<number, { generation: number; position: number }>();
  private readonly offsets = new Map<number, string>();

  /** Called on every group join. */
  newGeneration(): void {
    this.generation += 1;
    this.known.clear();
    this.offsets.clear();
  }

  current(): number {
    return this.generation;
  }

  get(partition: number): number | undefined {
    const entry = this.known.get(partition);
    return entry?.generation === this.generation ? entry.position : undefined;
  }

  /** Records a position read or written during `generation`; ignored when that generation is over. */
  set(partition: number, position: number, generation: number): void {
    if (generation === this.generation) this.known.set(partition, { generation, position });
  }

  resolved(partition: number, offset: string, generation: number): void {
    if (generation === this.generation) this.offsets.set(partition, offset);
  }

  /** The next offset to read of every partition resolved in this generation (what a commit would store). */
  uncommitted(): Array<{ partition: number; next: string }> {
    return [...this.offsets].map(([partition, offset]) => ({
      partition,
      next: (BigInt(offset) + 1n).toString(),
    }));
  }
}
