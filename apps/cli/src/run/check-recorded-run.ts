import { payloadsOf } from '@recon/contracts';
import {
  BlobCorruptedError,
  BlobNotFoundError,
  type BlobStore,
  type EventStore,
  type RecordedEvent,
} from '@recon/eventlog';

/** A blob a run's record points at, and what it is to the run. */
export interface RunBlob {
  what: string;
  hash: string;
}

/** The events that name the blobs a resumed or forked run reads again, and what it has done with them. */
export const BLOB_EVENT_TYPES = [
  'dataset.resolved',
  'evaluation.completed',
  'tokenizer.trained',
  'policy.initialised',
  'policy.ready',
  'checkpoint.saved',
  'rollouts.requested',
] as const;

/**
 * What `recon resume` reads again: the datasets, the tokenizer, the checkpoint of each stage not evaluated yet
 * and GRPO's reference (the SFT checkpoint), the last GRPO checkpoint (weights and optimiser state) and the
 * policy the last rollouts were asked of.
 */
export function blobsToResume(events: readonly RecordedEvent[]): RunBlob[] {
  const blobs: RunBlob[] = [];
  for (const resolved of payloadsOf(events, 'dataset.resolved'))
    for (const d of resolved.datasets)
      blobs.push({ what: `the ${d.role} dataset ${d.name}`, hash: d.blobHash });
  for (const t of payloadsOf(events, 'tokenizer.trained'))
    blobs.push({ what: 'the tokenizer', hash: t.tokenizerHash });
  const evaluated = new Set(payloadsOf(events, 'evaluation.completed').map((e) => e.stage));
  const grpo = payloadsOf(events, 'checkpoint.saved').filter((c) => c.phase === 'grpo');
  const requested = payloadsOf(events, 'rollouts.requested');
  const ready = payloadsOf(events, 'policy.ready');
  const reference = ready.find((r) => r.stage === 'sft') ?? ready.find((r) => r.stage === 'untrained');
  for (const r of ready)
    if (!evaluated.has(r.stage) || (r === reference && requested.length > 0))
      blobs.push({ what: `the ${r.stage} checkpoint`, hash: r.checkpointHash });
  const last = grpo[grpo.length - 1];
  if (last) blobs.push({ what: `the last GRPO checkpoint (step ${last.step})`, hash: last.checkpointHash });
  const asked = requested[requested.length - 1];
  if (asked)
    blobs.push({ what: `the policy of GRPO step ${asked.step}'s rollouts`, hash: asked.policyVersion });
  return blobs.filter((blob, i) => blobs.findIndex((b) => b.hash === blob.hash) === i);
}

/**
 * Where a fork of the parent at GRPO step `step` starts, as the training service will look for it (0 is the
 * SFT checkpoint, else that step's GRPO checkpoint), with the blobs it reads; or why it cannot start.
 */
export function forkStart(
  parentId: string,
  events: readonly RecordedEvent[],
  step: number,
): { blobs: RunBlob[] } | { problem: string; usage: boolean } {
  // A built-in policy's trained tokenizer, or the tokenizer.json of a pretrained policy's directory.
  const [initialised] = payloadsOf(events, 'policy.initialised');
  const ready = payloadsOf(events, 'policy.ready');
  const sft = ready.find((r) => r.stage === 'sft') ?? ready.find((r) => r.stage === 'untrained');
  if (!initialised || !sft)
    return {
      problem: `run ${parentId} has no SFT checkpoint to fork from (it has not finished SFT)`,
      usage: false,
    };
  const grpoSet = payloadsOf(events, 'dataset.resolved')[0]?.datasets.find((d) => d.role === 'grpo');
  if (!grpoSet) return { problem: `run ${parentId} resolved no GRPO dataset to continue on`, usage: false };
  const checkpoints = payloadsOf(events, 'checkpoint.saved').filter((c) => c.phase === 'grpo');
  const start = step === 0 ? sft.checkpointHash : checkpoints.find((c) => c.step === step)?.checkpointHash;
  if (!start)
    return {
      problem: `--from-step ${step}: run ${parentId} has no GRPO checkpoint at step ${step} (it has ${checkpoints.map((c) => c.step).join(', ') || 'none'}; 0 is its SFT checkpoint)`,
      usage: true,
    };
  return {
    blobs: [
      { what: step === 0 ? 'the SFT checkpoint' : `the GRPO checkpoint of step ${step}`, hash: start },
      { what: 'the tokenizer', hash: initialised.tokenizerHash },
      { what: `the grpo dataset ${grpoSet.name}`, hash: grpoSet.blobHash },
    ],
  };
}

/** The first blob that is missing or whose bytes no longer hash to its name, with why; null if all are sound. */
export async function firstUnreadableBlob(
  blobStore: BlobStore,
  blobs: readonly RunBlob[],
): Promise<{ blob: RunBlob; reason: string } | null> {
  for (const blob of blobs) {
    try {
      await blobStore.get(blob.hash);
    } catch (error) {
      if (error instanceof BlobNotFoundError || error instanceof BlobCorruptedError)
        return { blob, reason: error.message };
      throw error;
    }
  }
  return null;
}

/** A run's events that name blobs (see BLOB_EVENT_TYPES), in order. */
export function readBlobEvents(eventStore: EventStore, runId: string): Promise<RecordedEvent[]> {
  return eventStore.readStream(runId, { types: [...BLOB_EVENT_TYPES] });
}
