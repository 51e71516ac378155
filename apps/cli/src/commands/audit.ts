import { Command } from 'commander';
import {
  auditBlobs,
  auditLog,
  BlobReferenceCollector,
  CheckpointError,
  describeBlobProblem,
  describeLogBreak,
  SigningKeyError,
} from '@recon/eventlog';
import type { Platform } from '@recon/persistence';
import { writeFileSync } from 'node:fs';
import { auditProofCommand, auditVerifyProofCommand } from './audit-proof';
import {
  auditRun,
  auditSummary,
  buildAuditReport,
  checkpointSources,
  describeBlobs,
  describeCoverage,
  kafkaCheckpointSources,
  readSignedLog,
  signLogCheckpoint,
  type CheckpointSources,
} from '@recon/audit';
import { CliFailure, withPlatform } from '../context';
import { printJsonOr } from '../output';

interface AuditOptions {
  json?: boolean;
  report?: boolean;
  out?: string;
  all?: boolean;
  checkpoint?: boolean;
  checkpoints?: string;
  checkpointsFromKafka?: boolean;
  publicKey?: string;
}

/** The checkpoints to verify against: the file (default), or the Kafka topic with --checkpoints-from-kafka. */
async function auditSources(platform: Platform, options: AuditOptions): Promise<CheckpointSources> {
  if (!options.checkpointsFromKafka) return checkpointSources(platform.home, options);
  try {
    return await kafkaCheckpointSources(platform.home, options);
  } catch (error) {
    if (error instanceof SigningKeyError) throw error;
    throw new CliFailure(`audit --checkpoints-from-kafka: ${(error as Error).message}`);
  }
}

export function auditCommand(): Command {
  return new Command('audit')
    .description(
      "verify a run's hash chain against the signed log checkpoints, and its blobs; report the first broken link",
    )
    .argument('[run]', 'run id')
    .option('--report', 'write a human-readable audit report (markdown) instead')
    .option('--out <file>', 'with --report: write the report to this file instead of stdout')
    .option(
      '--all',
      'verify the whole log instead: every stream, every global position, the signed log heads, every blob',
    )
    .option(
      '--checkpoint',
      'verify what was appended since the last log checkpoint, then sign and publish a new one',
    )
    .option(
      '--checkpoints <file>',
      'the log checkpoints to verify against (default: $RECON_HOME/log-checkpoints.jsonl)',
    )
    .option(
      '--checkpoints-from-kafka',
      'verify against the checkpoints published to the Kafka topic (recon.log-checkpoints; needs KAFKA_BROKERS)',
    )
    .option('--public-key <file>', 'the PEM public key that verifies them (default: the home key pair)')
    .option('--json', 'print JSON')
    .addCommand(auditProofCommand())
    .addCommand(auditVerifyProofCommand())
    .action(async (runId: string | undefined, options: AuditOptions) => {
      const modes = [runId !== undefined, options.all === true, options.checkpoint === true].filter(
        Boolean,
      ).length;
      if (modes !== 1)
        throw new CliFailure('audit: name a run, or pass --all or --checkpoint (one of them)', 2);
      if ((options.report || options.out) && !runId) throw new CliFailure('audit --report: name a run', 2);
      if (options.checkpointsFromKafka && options.checkpoints)
        throw new CliFailure('audit: pass --checkpoints <file> or --checkpoints-from-kafka, not both', 2);
      if (options.checkpointsFromKafka && options.checkpoint)
        throw new CliFailure('audit --checkpoint signs into the file and publishes to Kafka itself; drop --checkpoints-from-kafka', 2);
      await withPlatform(async (platform) => {
        try {
          if (options.checkpoint) return await checkpointCommand(platform, options);
          if (options.all) return await auditAllCommand(platform, options);
          return await auditRunCommand(platform, runId as string, options);
        } catch (error) {
          if (error instanceof CheckpointError || error instanceof SigningKeyError)
            throw new CliFailure(error.message);
          throw error;
        }
      });
    });
}

async function auditRunCommand(platform: Platform, runId: string, options: AuditOptions): Promise<void> {
  const sources = await auditSources(platform, options);
  if (options.report) {
    const report = await buildAuditReport(platform, runId, { checkpoints: sources });
    if (report.audit.chain.eventsChecked === 0 && report.audit.chain.ok)
      throw new CliFailure(`run '${runId}' has no events`);
    if (options.out) {
      writeFileSync(options.out, report.markdown);
      process.stdout.write(`wrote ${options.out}\n`);
    } else process.stdout.write(report.markdown);
    if (!report.audit.ok) process.exitCode = 1;
    return;
  }
  const audit = await auditRun(platform, runId, { checkpoints: sources });
  const { chain, blobs } = audit;
  if (chain.eventsChecked === 0 && chain.ok) throw new CliFailure(`run '${runId}' has no events`);
  printJsonOr(
    auditSummary(audit),
    () => {
      const lines: string[] = [];
      if (chain.ok) {
        const withdrawn = chain.tombstoned > 0 ? `, ${chain.tombstoned} withdrawn by recorded deletions` : '';
        lines.push(
          `run ${runId}: hash chain intact (${chain.eventsChecked} events${withdrawn}, head ${chain.headHash})`,
          `  signed: ${describeCoverage(audit.checkpoint, chain.eventsChecked)}`,
        );
      } else {
        const broken = chain.firstBroken!;
        lines.push(
          `run ${runId}: hash chain BROKEN`,
          `  first broken link at position ${broken.position} (event ${broken.eventId ?? '-'})`,
          `  check:    ${broken.check}`,
          `  expected: ${broken.expected}`,
          `  found:    ${broken.found}`,
        );
      }
      lines.push(`  blobs:  ${describeBlobs(blobs)}`);
      if (blobs.firstProblem)
        lines.push(`run ${runId}: blob check FAILED: ${describeBlobProblem(blobs.firstProblem)}`);
      return lines.join('\n');
    },
    options,
  );
  if (!audit.ok) process.exitCode = 1;
}

async function auditAllCommand(platform: Platform, options: AuditOptions): Promise<void> {
  const sources = await auditSources(platform, options);
  const file = sources.file;
  const signed = await readSignedLog(platform, sources);
  const references = new BlobReferenceCollector();
  const log = await auditLog(platform.pool, signed, (row) => references.visit(row));
  const blobs = await auditBlobs(platform.blobStore, references.references, references.withdrawn);
  const ok = log.ok && blobs.ok;
  printJsonOr(
    {
      ...log,
      ok,
      logOk: log.ok,
      checkpointFile: file,
      latestCheckpoint: signed.latest?.sequence ?? null,
      blobs,
    },
    () =>
      [
        log.ok
          ? `log intact: ${log.eventsChecked} events in ${log.streams} streams, head at global position ${log.position}`
          : `log BROKEN: ${describeLogBreak(log.firstBroken!)}`,
        log.ok
          ? `  signed: ${
              log.signedThrough
                ? `matches log checkpoint #${log.signedThrough.sequence} of ${log.signedThrough.signedAt} at global position ${log.signedThrough.position}`
                : `no log checkpoint of this database in ${file}`
            }`
          : null,
        `  blobs:  ${describeBlobs(blobs)}`,
        blobs.firstProblem ? `log blob check FAILED: ${describeBlobProblem(blobs.firstProblem)}` : null,
      ]
        .filter((line): line is string => line !== null)
        .join('\n'),
    options,
  );
  if (!ok) process.exitCode = 1;
}

async function checkpointCommand(platform: Platform, options: AuditOptions): Promise<void> {
  const published = await signLogCheckpoint(platform, options.checkpoints);
  const { checkpoint } = published;
  const { kafka } = published;
  printJsonOr(
    { ...published },
    () =>
      [
        published.published
          ? `signed log checkpoint #${checkpoint.sequence}: global position ${checkpoint.log.position}, ` +
            `${Object.keys(checkpoint.streams).length} stream head(s), ${published.eventsVerified} new events verified ` +
            `(key ${checkpoint.keyId}) -> ${published.file}`
          : `the log has not grown since log checkpoint #${checkpoint.sequence} (global position ${checkpoint.log.position}); nothing to sign`,
        kafka === null
          ? null
          : 'error' in kafka
            ? `not published to Kafka topic ${kafka.topic}: ${kafka.error} (kept in ${published.file}; the next checkpoint publishes it)`
            : `Kafka topic ${kafka.topic}: ${kafka.published.length > 0 ? `published checkpoint(s) #${kafka.published.join(', #')}` : 'already holds every checkpoint'}`,
      ]
        .filter((line): line is string => line !== null)
        .join('\n'),
    options,
  );
  // The checkpoint is signed and kept in the file either way; a topic that missed it is a failure to report.
  if (kafka && 'error' in kafka) process.exitCode = 1;
}
