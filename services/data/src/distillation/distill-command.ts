import { writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { Command, InvalidArgumentError } from 'commander';
import { codeVersion } from '@recon/eventlog';
import type { DataStores } from '../stores';
import { NoAcceptedTracesError, registerDistilledDataset, type DistilledDataset } from './distilled-dataset';
import { runDistillation, type DistillationSummary } from './job';
import { DistillationSettingsConflictError } from './job-settings';
import { readEnvironment } from '@recon/config';

type OpenStores = () => Promise<DataStores & { close(): Promise<void> }>;

interface DistillCliOptions {
  baseUrl: string;
  model: string;
  job?: string;
  concurrency: number;
  retries: number;
  timeoutMs: number;
  limit?: number;
  temperature?: number;
  maxTokens?: number;
  into?: string;
  out?: string;
  json?: boolean;
}

/**
 * `dataset distill <datasetVersion>`: asks a teacher for every prompt, keeps the traces that grade correct
 * and, with `--into <name>`, registers the job's accepted traces as an SFT dataset (its lineage recorded).
 * Exits 1, naming why, when the job accepted no trace or its id was recorded with other settings.
 */
export function distillCommand(openStores: OpenStores, out: (text: string) => void): Command {
  const command = new Command('distill');
  return command
    .argument('<datasetVersion>', 'the version hash of a registered problem dataset (recon dataset import)')
    .description(
      'Ask an OpenAI-compatible teacher for every prompt of a registered dataset; keep the traces that grade correct',
    )
    .requiredOption('--base-url <url>', 'teacher base URL (POST {url}/v1/chat/completions)')
    .requiredOption('--model <model>', 'teacher model name')
    .option(
      '--job <id>',
      'job id; the same id with the same settings resumes a job (default: distill-<first 12 of the version>)',
    )
    .option('--concurrency <n>', 'requests in flight', (v) => positiveInt(v, '--concurrency'), 4)
    .option('--retries <n>', 'retries per item', (v) => positiveInt(v, '--retries', true), 3)
    .option('--timeout-ms <ms>', 'per-request timeout', (v) => positiveInt(v, '--timeout-ms'), 120_000)
    .option('--limit <n>', 'only the first n rows', (v) => positiveInt(v, '--limit'))
    .option('--temperature <t>', 'sampling temperature', nonNegative)
    .option('--max-tokens <n>', 'max_tokens per request', (v) => positiveInt(v, '--max-tokens'))
    .option('--into <name>', "register the job's accepted traces as an SFT dataset with this name")
    .option(
      '--out <file.jsonl>',
      'with --into: also write the dataset as JSONL (importing it gives the same version)',
    )
    .option('--json', 'print the summary as JSON')
    .action(async (datasetVersion: string, o: DistillCliOptions) => {
      if (o.out && !o.into) command.error('error: --out needs --into <name>', { exitCode: 2 });
      const jobId = o.job ?? `distill-${datasetVersion.slice(0, 12)}`;
      const stores = await openStores();
      try {
        const summary = await runDistillation(
          {
            jobId,
            datasetVersion,
            baseUrl: o.baseUrl,
            model: o.model,
            apiKey: readEnvironment('TEACHER_API_KEY'),
            concurrency: o.concurrency,
            retries: o.retries,
            timeoutMs: o.timeoutMs,
            limit: o.limit,
            temperature: o.temperature,
            maxTokens: o.maxTokens,
            requestedBy: userInfo().username,
            codeVersion: codeVersion(),
          },
          stores,
        );
        let dataset: DistilledDataset | undefined;
        if (o.into && summary.job.accepted > 0) {
          dataset = await registerDistilledDataset(stores, jobId, o.into);
          if (o.out) writeFileSync(o.out, dataset.jsonl);
        }
        out(formatSummary(o.json, jobId, summary, dataset));
        if (summary.job.accepted === 0) {
          const r = summary.job.rejected;
          fail(
            `distillation job ${jobId} accepted no trace of ${summary.job.items} item(s) ` +
              `(${r.wrongAnswer} wrong answer, ${r.noAnswer} no answer, ${r.teacherFailed} teacher failed)` +
              (o.into ? `; no dataset registered` : ''),
          );
        }
      } catch (error) {
        if (error instanceof DistillationSettingsConflictError || error instanceof NoAcceptedTracesError)
          fail(error.message);
        else throw error;
      } finally {
        await stores.close();
      }
    });
}

/** A failure of the job, not of the command line: its reason on stderr, exit code 1. */
function fail(message: string): void {
  process.stderr.write(`recon: ${message}\n`);
  process.exitCode = 1;
}

function formatSummary(
  json: boolean | undefined,
  jobId: string,
  summary: DistillationSummary,
  dataset: DistilledDataset | undefined,
): string {
  const registered = dataset && {
    name: dataset.name,
    versionHash: dataset.versionHash,
    rowCount: dataset.rowCount,
    registered: dataset.registered,
    skippedTraces: dataset.skipped.length,
  };
  if (json)
    return `${JSON.stringify({ jobId, ...summary, ...(registered ? { dataset: registered } : {}) })}\n`;
  const r = summary.rejected;
  const j = summary.job;
  const lines = [
    `${summary.items} items: ${summary.accepted} traces accepted, rejected ${r.wrongAnswer} wrong / ${r.noAnswer} no answer / ` +
      `${r.teacherFailed} teacher failed; ${summary.alreadyDone} already done, ${summary.recoveredFromLog} recovered from the log, ${summary.requests} requests`,
    `job ${jobId}: ${j.accepted} of ${j.items} accepted, rejected ${j.rejected.wrongAnswer} wrong / ${j.rejected.noAnswer} no answer / ${j.rejected.teacherFailed} teacher failed`,
  ];
  if (dataset)
    lines.push(
      `${dataset.registered ? 'registered' : 'already registered'} ${dataset.name} (sft): ${dataset.rowCount} traces, version ${dataset.versionHash}` +
        (dataset.skipped.length > 0
          ? ` (${dataset.skipped.length} accepted trace(s) are not valid SFT rows, left out)`
          : ''),
    );
  return `${lines.join('\n')}\n`;
}

function positiveInt(value: string, flag: string, allowZero = false): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < (allowZero ? 0 : 1))
    throw new InvalidArgumentError(`${flag} must be a ${allowZero ? 'non-negative' : 'positive'} integer`);
  return n;
}

function nonNegative(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError(`expected a number ≥ 0, got '${value}'`);
  return n;
}
