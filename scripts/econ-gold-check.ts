/**
 * Solves the fully specified Recon problems and compares each answer with its gold label (the data is only read):
 *   npm run build && node dist/scripts/econ-gold-check.js [dataDir] [--json]   (default ../shared/recon-data)
 */
import { join } from 'node:path';
import { Command } from 'commander';
import { formatGoldCheck, goldCheck } from '@recon/econ';

new Command('econ-gold-check')
  .description('check the gold labels of train_dataset.csv and eval_dataset.csv against solver answers')
  .argument('[dataDir]', 'directory holding the Recon CSVs', join(__dirname, '../../../shared/recon-data'))
  .option('--json', 'print the report as JSON')
  .action((dataDir: string, options: { json?: boolean }) => {
    const report = goldCheck(dataDir);
    process.stdout.write(options.json ? `${JSON.stringify(report, null, 2)}\n` : `${formatGoldCheck(report)}\n`);
  })
  .parseAsync()
  .catch((error: Error) => {
    process.stderr.write(`econ-gold-check: ${error.message}\n`);
    process.exitCode = 1;
  });
