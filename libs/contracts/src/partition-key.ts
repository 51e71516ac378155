/**
 * The Kafka message key of an event. Most events are keyed by their stream (run) id, so a run's events keep
 * their order on one partition. Work whose parts are independent gets a finer key, `<stream>#<part>`, so the
 * members of a consumer group share one run's work: a step's rollout shards, and the rollouts (which the
 * reward services score), keyed by their index in the group. Consumers must not rely on order between differently keyed events of a run.
 */
export function partitionKeyOf(event: { streamId: string; type: string; payload: unknown }): string {
  const payload = event.payload as Record<string, unknown> | null;
  if (event.type === 'rollout.shard.requested' && typeof payload?.shard === 'number')
    return `${event.streamId}#rollout-shard-${payload.shard}`;
  if (event.type === 'rollout.generated' && typeof payload?.groupIndex === 'number')
    return `${event.streamId}#rollout-${payload.groupIndex}`;
  return event.streamId;
}

/** Whether a message key belongs to a stream: the stream id itself or one of its finer keys. */
export function keyBelongsToStream(key: string, streamId: string): boolean {
  return key === streamId || key.startsWith(`${streamId}#`);
}
