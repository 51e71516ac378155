/**
 * The `dataset` command on its own, until it is mounted in the `recon` CLI:
 *   npm run build && node dist/scripts/econ-dataset.js import ../shared/recon-data/train_dataset.csv --json
 *   node dist/scripts/econ-dataset.js tags ../shared/recon-data
 *   node dist/scripts/econ-dataset.js distill <versionHash> --base-url http://127.0.0.1:8000 --model QwQ-32B
 * Stores come from openPlatform() (DATABASE_URL, else the embedded server under RECON_HOME).
 */
import 'reflect-metadata';
import { datasetCommand } from '../services/data/src/cli';

datasetCommand()
  .parseAsync(process.argv.slice(2), { from: 'user' })
  .catch((error: Error) => {
    process.stderr.write(`dataset: ${error.message}\n`);
    process.exitCode = 1;
  });
