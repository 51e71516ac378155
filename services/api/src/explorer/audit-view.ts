import { describeBlobProblem, type AuditResult } from '@recon/eventlog';
import type { Platform } from '@recon/persistence';
import { buildAuditReport, describeBlobs, describeCoverage } from '@recon/audit';
import { reportBlocks, type ReportBlock } from '@recon/run-report';

/** The explorer's audit page: the verdict and its parts up front, then the audit report's sections. */
export interface AuditView {
  runId: string;
  /** Chain intact (signed heads included) and every referenced blob present and intact. */
  ok: boolean;
  chain: AuditResult;
  /** The run's standing against the signed log checkpoints, in words. */
  checkpoint: { status: string; description: string };
  blobs: { ok: boolean; description: string; firstProblem: string | null };
  /** `recon audit`'s report (producers, code versions, datasets, checkpoints, replays, withdrawals) as blocks. */
  report: ReportBlock[];
}

/** Runs the audit through its exported API (audit-report.ts, run-audit.ts) and shapes it for the page. */
export async function buildAuditView(platform: Platform, runId: string): Promise<AuditView> {
  const { chain, audit, markdown } = await buildAuditReport(platform, runId);
  return {
    runId,
    ok: audit.ok,
    chain,
    checkpoint: {
      status: audit.checkpoint.status,
      description: chain.ok
        ? describeCoverage(audit.checkpoint, chain.eventsChecked)
        : 'not compared: the chain is broken',
    },
    blobs: {
      ok: audit.blobs.ok,
      description: describeBlobs(audit.blobs),
      firstProblem: audit.blobs.firstProblem ? describeBlobProblem(audit.blobs.firstProblem) : null,
    },
    report: reportBlocks(markdown),
  };
}
