import type { BlobStore, EventStore } from '@recon/eventlog';
import { decodeCheckpoint } from '@recon/policy';
import { loadPolicyCheckpoint, recordedPretrainedSource } from '@recon/policy-runtime';
import { builtinChatPolicy } from './builtin-chat-policy';
import type { ChatPolicy } from './chat-policy';
import { pretrainedChatPolicy } from './pretrained-chat-policy';
import type { resolveCheckpoint } from './resolve-checkpoint';

/** A checkpoint was found but cannot be served; the message says why. */
export class PolicyNotServableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PolicyNotServableError';
  }
}

export interface LoadedServedPolicy {
  policy: ChatPolicy;
  checkpointHash: string;
  runId?: string;
  stage?: string;
  /** The pretrained checkpoint directory the adapters are served on, for a pretrained run. */
  pretrainedPath?: string;
}

type Stores = { eventStore: EventStore; blobStore: BlobStore };
const PAGE = 1000;

/** The run whose policy.ready or checkpoint.saved names the checkpoint (the first one recorded), if any. */
async function runRecording(eventStore: EventStore, checkpointHash: string): Promise<string | undefined> {
  for (let after = 0; ;) {
    const page = await eventStore.readAll<'policy.ready' | 'checkpoint.saved'>(after, PAGE, {
      types: ['policy.ready', 'checkpoint.saved'],
    });
    const found = page.find((e) => e.payload.checkpointHash === checkpointHash);
    if (found) return found.streamId;
    if (page.length < PAGE) return undefined;
    after = page[page.length - 1].globalPosition;
  }
}

/**
 * Loads what `recon serve <reference>` serves, once resolveCheckpoint has found the checkpoint. A pretrained run's
 * stage is its recorded checkpoint directory (refused when its files changed) with the stage's adapters; a
 * bare hash of an adapter checkpoint is served through the run that recorded it, and refused when none did
 * (nothing would name the base the adapters belong to).
 */
export async function loadServedPolicy(
  stores: Stores,
  resolved: Awaited<ReturnType<typeof resolveCheckpoint>>,
): Promise<LoadedServedPolicy> {
  const { checkpointHash } = resolved;
  let runId = resolved.runId;
  let source = runId ? await recordedPretrainedSource(stores.eventStore, runId) : undefined;
  if (!runId) {
    const base = adapterBase(await stores.blobStore.get(checkpointHash), checkpointHash);
    if (base !== undefined) {
      runId = await runRecording(stores.eventStore, checkpointHash);
      source = runId ? await recordedPretrainedSource(stores.eventStore, runId) : undefined;
      if (!source)
        throw new PolicyNotServableError(
          `checkpoint ${checkpointHash} holds LoRA adapters of a pretrained model (base ${base.slice(0, 12)}…) and no run in this log records it, so nothing names the base directory to load them onto: serve <run>[:<stage>] of the run that trained it`,
        );
    }
  }
  if (!source) {
    const loaded = await loadPolicyCheckpoint(stores.blobStore, checkpointHash);
    return { ...resolved, policy: builtinChatPolicy(loaded) };
  }
  try {
    const policy = await pretrainedChatPolicy(stores.blobStore, source, checkpointHash);
    return { ...resolved, runId, policy, pretrainedPath: source.path };
  } catch (error) {
    throw new PolicyNotServableError(`run ${runId} cannot be served: ${(error as Error).message}`);
  }
}

/** The base content hash an adapter checkpoint names; undefined for a built-in checkpoint. */
function adapterBase(bytes: Uint8Array, checkpointHash: string): string | undefined {
  const config = decodeCheckpoint(bytes, checkpointHash).config as {
    pretrained?: { sha256?: unknown };
  } | null;
  const base = config?.pretrained?.sha256;
  return base === undefined ? undefined : String(base);
}
