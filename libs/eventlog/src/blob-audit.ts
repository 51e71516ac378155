import type { BlobStore } from './blob-store';
import { BlobCorruptedError, BlobNotFoundError } from './errors';
import type { StoredRow } from './rows';

export type BlobKind = 'checkpoint' | 'tokenizer' | 'dataset' | 'request' | 'response' | 'trace';

/** A blob an event names by its content hash. */
export interface BlobReference {
  hash: string;
  kind: BlobKind;
  /** The first event that names it. */
  eventType: string;
  position: number;
  eventId: string;
}

type Extract = (payload: Record<string, unknown>) => Array<[BlobKind, unknown]>;

const field =
  (kind: BlobKind, name: string): Extract =>
  (payload) => [[kind, payload[name]]];

/** The payload fields that name blobs, by event type (datasets, tokenizers, checkpoints, recorded bodies). */
const BLOB_FIELDS: Record<string, Extract[]> = {
  'dataset.registered': [field('dataset', 'blobHash')],
  'dataset.resolved': [
    (payload) =>
      ((payload.datasets as Array<{ blobHash?: unknown }> | undefined) ?? []).map((d) => [
        'dataset',
        d.blobHash,
      ]),
  ],
  'tokenizer.trained': [field('tokenizer', 'tokenizerHash')],
  'policy.initialised': [field('tokenizer', 'tokenizerHash')],
  'checkpoint.saved': [field('checkpoint', 'checkpointHash')],
  'policy.ready': [field('checkpoint', 'checkpointHash')],
  'external.request.sent': [field('request', 'requestBlobHash')],
  'external.response.received': [field('response', 'responseBlobHash')],
  'teacher.request.sent': [field('request', 'requestBlobHash')],
  'teacher.response.received': [field('response', 'responseBlobHash')],
  'trace.accepted': [field('trace', 'traceBlobHash')],
  'trace.rejected': [field('trace', 'traceBlobHash')],
};

const SHA256 = /^[0-9a-f]{64}$/;

/**
 * Collects the blobs a stream's events reference, fed its rows in order (tombstoned events name none), and
 * the blobs its recorded deletions removed.
 */
export class BlobReferenceCollector {
  private readonly byHash = new Map<string, BlobReference>();
  readonly withdrawn = new Set<string>();

  visit(row: Pick<StoredRow, 'type' | 'payload' | 'position' | 'event_id' | 'tombstoned_by'>): void {
    if (row.tombstoned_by) return;
    if (row.type === 'run.content.deleted') {
      for (const hash of (JSON.parse(row.payload) as { blobHashes: string[] }).blobHashes)
        this.withdrawn.add(hash);
      return;
    }
    const extractors = BLOB_FIELDS[row.type];
    if (!extractors) return;
    const payload = JSON.parse(row.payload) as Record<string, unknown>;
    for (const extract of extractors)
      for (const [kind, hash] of extract(payload))
        if (typeof hash === 'string' && SHA256.test(hash) && !this.byHash.has(hash))
          this.byHash.set(hash, {
            hash,
            kind,
            eventType: row.type,
            position: row.position,
            eventId: row.event_id,
          });
  }

  get references(): BlobReference[] {
    return [...this.byHash.values()];
  }
}

export type BlobStatus = 'intact' | 'missing' | 'corrupt' | 'withdrawn';

export interface BlobCheck {
  reference: BlobReference;
  status: BlobStatus;
  /** For a corrupt blob: the hash of the bytes found. */
  found?: string;
}

export interface BlobAuditResult {
  ok: boolean;
  checks: BlobCheck[];
  /** The first missing or corrupt blob, in the order the stream references them. */
  firstProblem: BlobCheck | null;
}

/**
 * Reads every referenced blob and checks its bytes against its content hash. A blob a recorded deletion
 * removed is 'withdrawn' (absent by design); any other absent or altered blob fails the audit.
 */
export async function auditBlobs(
  blobStore: BlobStore,
  references: readonly BlobReference[],
  withdrawn: ReadonlySet<string> = new Set(),
): Promise<BlobAuditResult> {
  const checks: BlobCheck[] = [];
  for (const reference of references) {
    try {
      await blobStore.get(reference.hash);
      checks.push({ reference, status: 'intact' });
    } catch (error) {
      if (error instanceof BlobNotFoundError)
        checks.push({ reference, status: withdrawn.has(reference.hash) ? 'withdrawn' : 'missing' });
      else if (error instanceof BlobCorruptedError)
        checks.push({ reference, status: 'corrupt', found: error.found });
      else throw error;
    }
  }
  const firstProblem =
    checks.find((check) => check.status === 'missing' || check.status === 'corrupt') ?? null;
  return { ok: firstProblem === null, checks, firstProblem };
}

export function describeBlobProblem(check: BlobCheck): string {
  const { reference } = check;
  const what = `${reference.kind} blob ${reference.hash} (named by ${reference.eventType} at position ${reference.position})`;
  return check.status === 'corrupt'
    ? `${what} is CORRUPT: its bytes hash to ${check.found}`
    : `${what} is MISSING`;
}
