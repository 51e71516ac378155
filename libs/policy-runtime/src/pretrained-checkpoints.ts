import type { BlobStore, EventStore } from '@recon/eventlog';
import { activeBackend, selectBackend, type BackendName } from '@recon/policy';
import {
  HfTokenizer,
  loadAdapterCheckpoint,
  PretrainedChatTokens,
  type PretrainedSource,
} from '@recon/pretrained';

/** The checkpoint directory a pretrained run recorded (its policy.source.resolved); undefined if built-in. */
export async function recordedPretrainedSource(
  eventStore: EventStore,
  runId: string,
): Promise<PretrainedSource | undefined> {
  const [recorded] = await eventStore.readStream(runId, { types: ['policy.source.resolved'] });
  return recorded?.payload;
}

/** As recordedPretrainedSource, for a run that must have one. */
export async function requirePretrainedSource(
  eventStore: EventStore,
  runId: string,
): Promise<PretrainedSource> {
  const source = await recordedPretrainedSource(eventStore, runId);
  if (!source) throw new Error(`run ${runId} recorded no policy.source.resolved for its pretrained policy`);
  return source;
}

/**
 * A pretrained run's checkpoint, ready to sample or train: the base weights from the directory the run
 * recorded (refused when its files changed) with the checkpoint's adapters and trainer state, and the
 * checkpoint's chat tokens. Selects `backend` first when none is active yet.
 */
export async function openPretrainedCheckpoint(
  stores: { eventStore: EventStore; blobStore: BlobStore },
  runId: string,
  checkpointHash: string,
  backend: BackendName | 'auto' = 'auto',
) {
  const source = await requirePretrainedSource(stores.eventStore, runId);
  if (!activeBackend()) await selectBackend(backend);
  const loaded = loadAdapterCheckpoint(source, await stores.blobStore.get(checkpointHash), checkpointHash);
  try {
    return {
      ...loaded,
      source,
      tokens: new PretrainedChatTokens(HfTokenizer.load(source.path), loaded.spec),
    };
  } catch (error) {
    loaded.model.dispose();
    throw error;
  }
}
