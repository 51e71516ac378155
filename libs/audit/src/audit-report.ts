import { stringify } from 'yaml';
import { ofType, type EventType } from '@recon/contracts';
import { describeBlobProblem, type AuditResult, type BlobStatus, type RecordedEvent } from '@recon/eventlog';
import type { Platform } from '@recon/persistence';
import { checkpointSources } from './log-checkpoints';
import { auditRun, describeBlobs, describeCoverage, type RunAudit, type RunAuditOptions } from './run-audit';

export interface AuditReport {
  runId: string;
  chain: AuditResult;
  /** Chain, signed checkpoint and blob checks; `audit.ok` is the verdict. */
  audit: RunAudit;
  markdown: string;
}

const BLOB_STATUS: Record<BlobStatus, string> = {
  intact: 'present, hash verified',
  missing: 'MISSING',
  corrupt: 'CORRUPTED',
  withdrawn: 'withdrawn',
};

/** Events of a type whose content is still present (withdrawn events are counted by the chain section). */
const of = <T extends EventType>(events: readonly RecordedEvent[], type: T) =>
  events.filter(ofType(type)).filter((e) => !e.tombstonedBy);

function table(head: string[], rows: Array<Array<string | number>>): string {
  if (rows.length === 0) return '_none recorded_\n';
  return (
    [
      `| ${head.join(' | ')} |`,
      `| ${head.map(() => '---').join(' | ')} |`,
      ...rows.map((r) => `| ${r.join(' | ')} |`),
    ].join('\n') + '\n'
  );
}

/** An evaluation of an external model (`recon eval`): who asked, what, and every recorded call and its blobs. */
async function externalEvaluationSection(
  platform: Platform,
  events: readonly RecordedEvent[],
): Promise<string[]> {
  const requested = events.find((e) => e.type === 'external.evaluation.requested')!;
  const p = requested.payload;
  const responses = of(events, 'external.response.received').map((e) => e.payload);
  const outcomes = new Map<string, number>();
  for (const r of responses) outcomes.set(r.outcome, (outcomes.get(r.outcome) ?? 0) + 1);
  const blobs = events
    .filter((e) => !e.tombstonedBy)
    .flatMap((e) => {
      const payload = e.payload as { requestBlobHash?: string; responseBlobHash?: string };
      return [payload.requestBlobHash, payload.responseBlobHash].filter((h): h is string => !!h);
    });
  const unique = [...new Set(blobs)];
  const missing = (await Promise.all(unique.map((h) => platform.blobStore.has(h)))).filter(
    (ok) => !ok,
  ).length;
  return [
    '## External evaluation',
    '',
    `- model: ${p.policy.model} at ${p.policy.baseUrl}`,
    `- started by: ${p.requestedBy}, at ${requested.occurredAt} (through ${requested.producer.service} ${requested.producer.instance})`,
    `- code version: ${p.codeVersion}`,
    `- suites: ${p.suites.join(', ')}; seed ${p.seed}`,
    ...p.datasets.map((d) => `- dataset ${d.role}: ${d.name} (${d.rowCount} rows, \`${d.versionHash}\`)`),
    `- requests: ${events.filter((e) => e.type === 'external.request.sent').length} sent; responses: ${[...outcomes].map(([o, n]) => `${n} ${o}`).join(', ') || 'none'}`,
    `- request and response bodies: ${unique.length} blobs, ${missing === 0 ? 'all present' : `**${missing} missing**`}`,
    '',
    '```yaml',
    stringify(p.settings).trimEnd(),
    '```',
    '',
  ];
}

/**
 * A human-readable audit of one run, built only from its events and the blob store: who started it and
 * when, code version, config, dataset and tokenizer hashes, checkpoints (and whether their blobs are
 * intact), reward services and versions, evaluation results, withdrawals, and the hash-chain status.
 */
export async function buildAuditReport(
  platform: Platform,
  runId: string,
  options: RunAuditOptions = { checkpoints: checkpointSources(platform.home, {}) },
): Promise<AuditReport> {
  const audit = await auditRun(platform, runId, options);
  const { chain } = audit;
  const events = await platform.eventStore.readStream(runId);
  const lines: string[] = [`# Audit report: run ${runId}`, ''];
  const requested = events.find((e) => e.type === 'run.requested');
  if (requested && !requested.tombstonedBy) {
    const p = requested.payload;
    lines.push(
      '## Run',
      '',
      `- name: ${p.name}`,
      `- started by: ${p.requestedBy}, at ${requested.occurredAt} (through ${requested.producer.service} ${requested.producer.instance})`,
      `- code version: ${p.codeVersion}`,
      `- seed: ${p.seed}`,
      `- config hash: \`${p.configHash}\``,
      ...(p.parent
        ? [
            `- forked from: run ${p.parent.runId} at step ${p.parent.step} (changed: ${p.parent.changedKeys.join(', ')})`,
          ]
        : []),
      '',
      '```yaml',
      stringify(p.config).trimEnd(),
      '```',
      '',
    );
  } else if (events.some((e) => e.type === 'external.evaluation.requested' && !e.tombstonedBy)) {
    lines.push(...(await externalEvaluationSection(platform, events)));
  } else {
    lines.push(
      '## Run',
      '',
      '_no run.requested event: this stream is not a run, or its request was withdrawn_',
      '',
    );
  }
  const finished = events.find((e) => e.type === 'run.completed' || e.type === 'run.failed');
  lines.push(
    `- status: ${finished ? (finished.type === 'run.completed' ? `completed at ${finished.occurredAt}` : `failed at ${finished.occurredAt}: ${finished.payload.phase}: ${finished.payload.error}`) : 'not finished'}`,
    '',
  );

  lines.push('## Hash chain', '');
  if (chain.ok) {
    lines.push(
      `Intact: ${chain.eventsChecked} events verified, head \`${chain.headHash}\`${chain.tombstoned ? `, ${chain.tombstoned} withdrawn by recorded deletions` : ''}.`,
      '',
    );
  } else {
    const b = chain.firstBroken!;
    lines.push(
      `**BROKEN** at position ${b.position} (event ${b.eventId ?? '-'}): check \`${b.check}\`, expected \`${b.expected}\`, found \`${b.found}\`.`,
      '',
    );
  }
  const coverage = chain.ok
    ? describeCoverage(audit.checkpoint, chain.eventsChecked)
    : 'not compared: the chain is broken';
  lines.push('## Signed log checkpoint', '', `${coverage}.`, '');
  if (audit.checkpoint.status === 'verified') {
    // The signed head itself, so a reviewer holding only the public key can check this run's head.
    const through = audit.checkpoint.through;
    lines.push(
      `Signed head of this run: position ${through.version}, hash \`${through.hash}\` (checkpoint #${through.sequence} in \`${audit.checkpoint.file}\`, key \`${audit.checkpoint.keyId}\`).`,
      'The checkpoint as published (its signature is Ed25519 over the RFC 8785 JSON of the other fields):',
      '',
      '```json',
      JSON.stringify(audit.checkpoint.signedBy),
      '```',
      '',
    );
  }
  lines.push(
    '## Blobs',
    '',
    `${describeBlobs(audit.blobs)}${audit.blobs.firstProblem ? `; first problem: **${describeBlobProblem(audit.blobs.firstProblem)}**` : ''}.`,
    '',
    table(
      ['kind', 'hash', 'named by', 'status'],
      audit.blobs.checks.map((c) => [
        c.reference.kind,
        `\`${c.reference.hash}\``,
        `${c.reference.eventType} @ ${c.reference.position}`,
        BLOB_STATUS[c.status],
      ]),
    ),
  );
  const verifications = of(events, 'run.replay.verified').map((e) => ({
    at: e.occurredAt,
    ...e.payload,
  }));
  lines.push('## Replay verification', '');
  if (verifications.length === 0)
    lines.push(
      'Not verified: `recon replay ' + runId + ' --verify` re-executes the run and records the outcome here.',
      '',
    );
  else {
    lines.push(
      table(
        ['when', 'by', 'code', 'replay run', 'events compared', 'outcome'],
        verifications.map((v) => [
          String(v.at),
          v.requestedBy,
          v.codeVersion,
          v.replayRunId,
          String(v.compared),
          v.identical
            ? 'identical'
            : `diverges at position ${v.firstDivergence?.position} (${v.firstDivergence?.type}): ${(v.firstDivergence?.differences ?? []).slice(0, 3).join('; ')}`,
        ]),
      ),
    );
  }

  const producers = new Map<string, number>();
  for (const e of events) {
    const key = `${e.producer.service} ${e.producer.version} (${e.producer.instance})`;
    producers.set(key, (producers.get(key) ?? 0) + 1);
  }
  lines.push(
    '## Producers',
    '',
    table(
      ['service, version (instance)', 'events'],
      [...producers].map(([k, n]) => [k, n]),
    ),
  );

  const resolved = of(events, 'dataset.resolved').flatMap(
    (e) => e.payload.datasets,
  );
  lines.push(
    '## Datasets',
    '',
    table(
      ['role', 'name', 'split', 'rows', 'version hash'],
      resolved.map((d) => [d.role, d.name, d.split, d.rowCount, `\`${d.versionHash}\``]),
    ),
  );

  const tokenizers = of(events, 'tokenizer.trained').map((e) => e.payload);
  const policies = of(events, 'policy.initialised').map((e) => e.payload);
  lines.push(
    '## Tokenizer and policy',
    '',
    table(
      ['tokenizer hash', 'vocab'],
      tokenizers.map((t) => [`\`${t.tokenizerHash}\``, t.vocabSize]),
    ),
    table(
      ['backend', 'threads', 'initial weights'],
      policies.map((p) => [p.backend.name, p.backend.threads, `\`${p.weightsHash}\``]),
    ),
  );

  const checkpoints = of(events, 'checkpoint.saved').map((e) => e.payload);
  const blobStatus = new Map(audit.blobs.checks.map((c) => [c.reference.hash, c.status]));
  // The blobs are read only for the events the chain verified: those after a break are not checked at all.
  const unchecked = chain.firstBroken
    ? `not checked (after the break at position ${chain.firstBroken.position})`
    : BLOB_STATUS.missing;
  const checkpointRows = checkpoints.map((c) => {
    const status = blobStatus.get(c.checkpointHash);
    return [c.phase, c.step, `\`${c.checkpointHash}\``, c.sizeBytes, status ? BLOB_STATUS[status] : unchecked];
  });
  lines.push('## Checkpoints', '', table(['phase', 'step', 'hash', 'bytes', 'blob'], checkpointRows));

  const rewards = new Map<string, number>();
  for (const e of of(events, 'reward.scored')) {
    const p = e.payload;
    const key = `${p.rewardId}@${p.rewardVersion}`;
    rewards.set(key, (rewards.get(key) ?? 0) + 1);
  }
  lines.push(
    '## Reward services',
    '',
    table(
      ['reward id @ version', 'rollouts scored'],
      [...rewards].map(([k, n]) => [k, n]),
    ),
  );

  const evaluations = of(events, 'evaluation.completed').map(
    (e) => e.payload,
  );
  const items = of(events, 'evaluation.item.scored').map(
    (e) => e.payload,
  );
  const bySuite = new Map<string, { correct: number; total: number }>();
  for (const item of items) {
    const key = `${item.suite} / ${item.stage}`;
    const entry = bySuite.get(key) ?? { correct: 0, total: 0 };
    entry.total += 1;
    entry.correct += item.correct ? 1 : 0;
    bySuite.set(key, entry);
  }
  lines.push(
    '## Evaluation',
    '',
    table(
      ['suite / stage', 'correct', 'items', 'accuracy'],
      [...bySuite].map(([k, v]) => [k, v.correct, v.total, (v.correct / v.total).toFixed(3)]),
    ),
    ...evaluations.map(
      (e) =>
        `- stage ${e.stage} (checkpoint \`${e.checkpointHash}\`): ${Object.entries(e.results)
          .map(([k, v]) => `${k} ${v}`)
          .join(', ')}`,
    ),
    '',
  );

  const deletions = of(events, 'run.content.deleted').map((e) => ({
    at: e.occurredAt,
    ...e.payload,
  }));
  lines.push(
    '## Withdrawn content',
    '',
    table(
      ['when', 'by', 'reason', 'events', 'blobs'],
      deletions.map((d) => [d.at, d.actor, d.reason, d.eventIds.length, d.blobHashes.length]),
    ),
  );

  return { runId, chain, audit, markdown: lines.join('\n') };
}
