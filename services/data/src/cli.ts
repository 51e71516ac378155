import { statSync, readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { Command, Option } from 'commander';
import { formatTagReport, importDataset as parseDataset, tagReport, type ProblemRow } from '@recon/econ';
import { checkGoldCommand, datasetListCommand } from './dataset-commands';
import { importDataset, promptText, type DatasetSplit } from './import-dataset';
import { distillCommand } from './distillation/distill-command';
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

  command.addCommand(distillCommand(openStores, out));
  command.addCommand(datasetListCommand(openStores, out));
  command.addCommand(checkGoldCommand(openStores, out));

  return command;
}
