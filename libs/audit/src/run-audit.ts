import {
  auditBlobs,
  auditStream,
  BlobReferenceCollector,
  type AuditResult,
  type BlobAuditResult,
  type LogCheckpoint,
  type SignedHead,
} from '@recon/eventlog';
import type { Platform } from '@recon/persistence';
import { readSignedLog, type CheckpointSources } from './log-checkpoints';

/** Where the run's chain stands against the log checkpoints kept outside the database. */
export type CheckpointCoverage =
  /** The chain passes through the run's signed head(s); `through` is the highest one. */
  | { status: 'verified'; file: string; keyId: string; through: SignedHead; signedBy: LogCheckpoint }
  /** Checkpoints of this database are kept, but none signed this run yet (it grew after the latest). */
  | {
      status: 'not-covered';
      file: string;
      keyId: string;
      latest: Pick<LogCheckpoint, 'sequence' | 'signedAt'>;
    }
  /** No checkpoint of this database is kept (or the chain broke before any signed head was reached). */
  | { status: 'none'; file: string };

export interface RunAudit {
  runId: string;
  chain: AuditResult;
  checkpoint: CheckpointCoverage;
  blobs: BlobAuditResult;
  /** Chain intact (signed heads included) and every referenced blob present and intact. */
  ok: boolean;
}

export interface RunAuditOptions {
  /** The checkpoints (a file, or lines read from Kafka) and the key that verifies them (null: none found; an error if there are checkpoints). */
  checkpoints: CheckpointSources;
}

/**
 * `recon audit <run>`: the run's hash chain, checked against every head of it that a kept log checkpoint
 * signed (so truncation, a rewritten head and a re-chained log are caught, not only edits), and every blob
 * the run references (datasets, tokenizer, checkpoints, recorded bodies) read back and checked against its
 * content hash. Throws CheckpointError when the checkpoint file itself cannot be trusted.
 */
export async function auditRun(
  platform: Pick<Platform, 'pool' | 'blobStore'>,
  runId: string,
  options: RunAuditOptions,
): Promise<RunAudit> {
  const { file, key } = options.checkpoints;
  const signed = await readSignedLog(platform, options.checkpoints);
  const references = new BlobReferenceCollector();
  const chain = await auditStream(platform.pool, runId, {
    signed: signed.streams.get(runId),
    visit: (row) => references.visit(row),
  });
  const blobs = await auditBlobs(platform.blobStore, references.references, references.withdrawn);
  const checkpoint: CheckpointCoverage =
    chain.signedThrough && key
      ? {
          status: 'verified',
          file,
          keyId: key.keyId,
          through: chain.signedThrough,
          signedBy: signed.checkpoints[chain.signedThrough.sequence - 1],
        }
      : signed.latest && key
        ? { status: 'not-covered', file, keyId: key.keyId, latest: signed.latest }
        : { status: 'none', file };
  return { runId, chain, checkpoint, blobs, ok: chain.ok && blobs.ok };
}

/**
 * The audit as `recon audit --json` prints it and `GET /runs/:id/audit` answers: the chain's fields at the
 * top, `ok` the whole verdict (chain, signed checkpoint and blobs), `chainOk` the chain alone.
 */
export function auditSummary(audit: RunAudit) {
  return {
    ...audit.chain,
    ok: audit.ok,
    chainOk: audit.chain.ok,
    checkpoint: audit.checkpoint,
    blobs: audit.blobs,
  };
}

/** One line on the run's standing against the kept checkpoints. */
export function describeCoverage(coverage: CheckpointCoverage, events: number): string {
  switch (coverage.status) {
    case 'verified': {
      const unsigned = events - coverage.through.version;
      return (
        `matches log checkpoint #${coverage.through.sequence} of ${coverage.through.signedAt} (key ${coverage.keyId}) at position ${coverage.through.version}` +
        (unsigned > 0 ? `; the ${unsigned} later event(s) are not signed yet` : '')
      );
    }
    case 'not-covered':
      return `not in a signed checkpoint yet (latest #${coverage.latest.sequence} of ${coverage.latest.signedAt}): truncation or re-chaining of it would go unnoticed until one signs it (recon audit --checkpoint)`;
    case 'none':
      return `no log checkpoint of this database in ${coverage.file}: truncation and re-chaining cannot be detected (recon audit --checkpoint signs one)`;
  }
}

/** One line summing up the blob checks. */
export function describeBlobs(blobs: BlobAuditResult): string {
  const kinds = new Map<string, number>();
  for (const check of blobs.checks)
    kinds.set(check.reference.kind, (kinds.get(check.reference.kind) ?? 0) + 1);
  const withdrawn = blobs.checks.filter((check) => check.status === 'withdrawn').length;
  const listed = [...kinds].map(([kind, n]) => `${n} ${kind}`).join(', ');
  if (blobs.checks.length === 0) return 'none referenced';
  const problems = blobs.checks.filter(
    (check) => check.status === 'missing' || check.status === 'corrupt',
  ).length;
  return (
    `${blobs.checks.length} referenced (${listed}): ` +
    (problems === 0 ? 'all present, content hashes verified' : `${problems} missing or corrupt`) +
    (withdrawn > 0 ? `, ${withdrawn} withdrawn by recorded deletions` : '')
  );
}
