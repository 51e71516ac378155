import { statSync, readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { Command, Option } from 'commander';
import { formatTagReport, importDataset as parseDataset, tagReport, type ProblemRow } from '@recon/econ';
import { importDataset, promptText, type DatasetSplit } from './import-dataset';
import { runDistillation } from './distillation';
import type { DataStores } from './stores';

/** Opens the stores a command needs and returns them with a close function. */
export type OpenStores = () => Promise<DataStores & { close(): Promise<void> }>;

async function openPlatformStores(): Promise<DataStores & { close(): Promise<void> }> {
  const { openPlatform } = await import('@recon/persistence');
  return openPlatform();
}

/**
 * `dataset import <file>` registers a dataset version; `dataset tags <dir-or-file>` prints the category
 * report of the problem files (no database needed).
 */
export function datasetCommand(
  openStores: OpenStores = openPlatformStores,
  out: (text: string) => void = (t) => process.stdout.write(t),
): Command {
  const command = new Command('dataset').description('Import Recon datasets and report their categories');

  command
    .command('import <file>')
    .description('Validate a Recon CSV/JSONL file, store its rows as a blob and register the version')
    .addOption(
      new Option('--split <split>', 'dataset split (default from the file name)').choices([
        'train',
        'eval',
        'sft',
        'test',
      ]),
    )
    .option('--name <name>', 'dataset name (default: the file name)')
    .addOption(
      new Option('--format <format>', 'file format (default from the file name)').choices([
        'recon-csv',
        'recon-cot-csv',
        'jsonl',
      ]),
    )
    .option(
      '--skip-invalid',
      'import the valid rows and report the invalid ones instead of importing nothing',
    )
    .option('--json', 'print the result as JSON')
    .action(
      async (
        file: string,
        options: {
          split?: DatasetSplit;
          name?: string;
          format?: 'recon-csv' | 'recon-cot-csv' | 'jsonl';
          skipInvalid?: boolean;
          json?: boolean;
        },
      ) => {
        const stores = await openStores();
        try {
          const result = await importDataset(
            {
              file,
              split: options.split,
              name: options.name,
              format: options.format,
              skipInvalid: options.skipInvalid,
            },
            stores,
          );
          if (options.json) {
            out(`${JSON.stringify(result)}\n`);
            return;
          }
          out(
            `${result.registered ? 'registered' : 'already registered'} ${result.name} (${result.split}): ${result.rowCount} rows, version ${result.versionHash}\n`,
          );
          if (result.rejected.length > 0) {
            out(
              `skipped ${result.rejected.length} invalid row(s):\n${result.rejected.map((r) => `  ${r.file}:${r.line}: ${r.reason}\n`).join('')}`,
            );
          }
        } finally {
          await stores.close();
        }
      },
    );

  command
    .command('tags <dir-or-file>')
    .description(
      'Per-category counts of every problem file (train/eval CSV or JSONL) in a directory, or of one file',
    )
    .option('--json', 'print the reports as JSON')
    .action((target: string, options: { json?: boolean }) => {
      const files = statSync(target).isDirectory()
        ? readdirSync(target)
            .filter((f) => /\.(csv|jsonl)$/.test(f) && !/cot/i.test(f))
            .sort()
            .map((f) => join(target, f))
        : [target];
      const reports = files.map((file) => {
        const rows = parseDataset(file).rows.filter((row): row is ProblemRow => 'messages' in row);
        return tagReport(basename(file).replace(/(_dataset)?\.[^.]+$/, ''), rows.map(promptText));
      });
      out(options.json ? `${JSON.stringify(reports)}\n` : `${formatTagReport(reports)}\n`);
    });

  command
    .command('distill <datasetVersion>')
    .description(
      'Ask an OpenAI-compatible teacher for every prompt of a registered dataset; keep the traces that grade correct',
    )
    .requiredOption('--base-url <url>', 'teacher base URL (POST {url}/v1/chat/completions)')
    .requiredOption('--model <model>', 'teacher model name')
    .option('--job <id>', 'job id; the same id resumes a job (default: distill-<first 12 of the version>)')
    .option('--concurrency <n>', 'requests in flight', (v) => positiveInt(v, '--concurrency'), 4)
    .option('--retries <n>', 'retries per item', (v) => positiveInt(v, '--retries', true), 3)
    .option('--timeout-ms <ms>', 'per-request timeout', (v) => positiveInt(v, '--timeout-ms'), 120_000)
    .option('--limit <n>', 'only the first n rows', (v) => positiveInt(v, '--limit'))
    .option('--temperature <t>', 'sampling temperature', Number)
    .option('--max-tokens <n>', 'max_tokens per request', (v) => positiveInt(v, '--max-tokens'))
    .option('--json', 'print the summary as JSON')
    .action(
      async (
        datasetVersion: string,
        o: {
          baseUrl: string;
          model: string;
          job?: string;
          concurrency: number;
          retries: number;
          timeoutMs: number;
          limit?: number;
          temperature?: number;
          maxTokens?: number;
          json?: boolean;
        },
      ) => {
        const stores = await openStores();
        try {
          const summary = await runDistillation(
            {
              jobId: o.job ?? `distill-${datasetVersion.slice(0, 12)}`,
              datasetVersion,
              baseUrl: o.baseUrl,
              model: o.model,
              apiKey: process.env.TEACHER_API_KEY,
              concurrency: o.concurrency,
              retries: o.retries,
              timeoutMs: o.timeoutMs,
              limit: o.limit,
              temperature: o.temperature,
              maxTokens: o.maxTokens,
            },
            stores,
          );
          out(formatSummary(o.json, summary));
        } finally {
          await stores.close();
        }
      },
    );

  return command;
}

function formatSummary(
  json: boolean | undefined,
  summary: Awaited<ReturnType<typeof runDistillation>>,
): string {
  if (json) return `${JSON.stringify(summary)}\n`;
  const r = summary.rejected;
  return (
    `${summary.items} items: ${summary.accepted} traces accepted, rejected ${r.wrongAnswer} wrong / ${r.noAnswer} no answer / ` +
    `${r.teacherFailed} teacher failed; ${summary.alreadyDone} already done, ${summary.recoveredFromLog} recovered from the log, ${summary.requests} requests\n`
  );
}

function positiveInt(value: string, flag: string, allowZero = false): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < (allowZero ? 0 : 1))
    throw new Error(`${flag} must be a ${allowZero ? 'non-negative' : 'positive'} integer, got '${value}'`);
  return n;
}
