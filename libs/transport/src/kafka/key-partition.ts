import { Partitioners, type PartitionMetadata } from 'kafkajs';

const partitioner = Partitioners.DefaultPartitioner();
const layouts = new Map<number, PartitionMetadata[]>();

/**
 * The partition of `partitions` that the relay's producer (kafkajs's DefaultPartitioner, murmur2 of the key
 * as Java's client) sends a message with this key to.
 */
export function partitionOfKey(topic: string, key: string, partitions: number): number {
  let layout = layouts.get(partitions);
  if (!layout) {
    layout = Array.from({ length: partitions }, (_, partitionId) => ({
      partitionErrorCode: 0,
      partitionId,
      leader: 0,
      replicas: [0],
      isr: [0],
    }));
    layouts.set(partitions, layout);
  }
  return partitioner({ topic, partitionMetadata: layout, message: { key, value: null } });
}
