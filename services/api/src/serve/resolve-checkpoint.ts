import type { BlobStore, EventStore } from '@recon/eventlog';

const HASH = /^[0-9a-f]{64}$/;

/** A checkpoint named on the command line could not be found; the message says what is missing. */
export class CheckpointNotFoundError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CheckpointNotFoundError';
  }
}

/**
 * The checkpoint blob a reference names: a sha256 checkpoint hash, or `<run>[:<stage>]` for the checkpoint
 * the run's `policy.ready` pins for that stage (untrained, sft, grpo; default: the run's last ready stage).
 */
export async function resolveCheckpoint(
  stores: { eventStore: EventStore; blobStore: BlobStore },
  reference: string,
): Promise<{ checkpointHash: string; runId?: string; stage?: string }> {
  if (HASH.test(reference)) {
    if (!(await stores.blobStore.has(reference)))
      throw new CheckpointNotFoundError(`no checkpoint blob ${reference} in the blob store`);
    return { checkpointHash: reference };
  }
  const colon = reference.lastIndexOf(':');
  const stages = ['untrained', 'sft', 'grpo'];
  const [runId, stage] =
    colon > 0 && stages.includes(reference.slice(colon + 1))
      ? [reference.slice(0, colon), reference.slice(colon + 1)]
      : [reference, undefined];
  if ((await stores.eventStore.streamVersion(runId)) === 0)
    throw new CheckpointNotFoundError(
      `'${reference}' is neither a checkpoint hash (64 hex digits) nor a run with events`,
    );
  const ready = (await stores.eventStore.readStream(runId, { types: ['policy.ready'] })).map((e) => e.payload);
  const chosen = stage ? ready.filter((r) => r.stage === stage).at(-1) : ready.at(-1);
  if (!chosen)
    throw new CheckpointNotFoundError(
      stage
        ? `run ${runId} has no policy ready at stage ${stage} (ready: ${ready.map((r) => r.stage).join(', ') || 'none'})`
        : `run ${runId} has no policy ready yet`,
    );
  if (!(await stores.blobStore.has(chosen.checkpointHash)))
    throw new CheckpointNotFoundError(
      `run ${runId} ${chosen.stage}: checkpoint blob ${chosen.checkpointHash} is not in the blob store`,
    );
  return { checkpointHash: chosen.checkpointHash, runId, stage: chosen.stage };
}
