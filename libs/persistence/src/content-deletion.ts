import type { Producer } from '@recon/contracts';
import { ContentDeletionError, type RecordedEvent } from '@recon/eventlog';
import type { Platform } from './platform';
import type { RebuildResult } from './projections';

export interface ContentDeletionRequest {
  runId: string;
  /** Events to withdraw, by id and/or by type. */
  eventIds?: string[];
  types?: string[];
  blobHashes?: string[];
  reason: string;
  actor: string;
}

export interface ContentDeletionResult {
  deletion: RecordedEvent;
  eventIds: string[];
  blobHashes: string[];
  rebuild: RebuildResult;
}

/**
 * Withdraws a run's content (e.g. a dataset that must be removed): tombstones the events, removes the blobs,
 * and rebuilds the run's read models without them. The hash chain still verifies; `recon audit` reports the
 * tombstones and the deletion event that authorised them, with its actor and reason.
 */
export async function deleteRunContent(
  platform: Platform,
  request: ContentDeletionRequest,
  producer: Producer,
): Promise<ContentDeletionResult> {
  const byType =
    request.types && request.types.length > 0
      ? (await platform.eventStore.readStream(request.runId, { types: request.types }))
          .filter((event) => !event.tombstonedBy)
          .map((event) => event.eventId)
      : [];
  const eventIds = [...new Set([...(request.eventIds ?? []), ...byType])];
  if (eventIds.length === 0) throw new ContentDeletionError(request.runId, 'nothing to delete: no matching events');
  const blobHashes = [...new Set(request.blobHashes ?? [])];
  const deletion = await platform.eventStore.deleteContent(
    request.runId,
    { eventIds, blobHashes, reason: request.reason, actor: request.actor },
    producer,
  );
  for (const hash of blobHashes) await platform.blobStore.delete(hash);
  const rebuild = await platform.projections.rebuild(request.runId);
  return { deletion, eventIds, blobHashes, rebuild };
}
