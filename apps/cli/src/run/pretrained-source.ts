import type { PayloadOf } from '@recon/contracts';
import type { EventStore } from '@recon/eventlog';
import { assertSameCheckpoint } from '@recon/pretrained';

/** The pretrained checkpoint directory a run recorded (policy.source.resolved), if it has one. */
export async function recordedPretrainedSource(
  eventStore: EventStore,
  runId: string,
): Promise<PayloadOf<'policy.source.resolved'> | null> {
  const [recorded] = await eventStore.readStream(runId, { types: ['policy.source.resolved'] });
  return recorded ? recorded.payload : null;
}

/**
 * Why a run cannot go on from (or be re-executed against) its pretrained checkpoint directory: a file
 * changed, added or missing since the run recorded its content hash; null when it is the same (or the run
 * has no pretrained policy).
 */
export async function changedPretrainedSource(eventStore: EventStore, runId: string): Promise<string | null> {
  const source = await recordedPretrainedSource(eventStore, runId);
  if (!source) return null;
  try {
    assertSameCheckpoint(source.path, source);
    return null;
  } catch (error) {
    return (error as Error).message;
  }
}
