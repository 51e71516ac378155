/**
 * Prints the category report of the Recon problem files (no database needed):
 *   npm run build && node dist/scripts/econ-tags.js [dir-or-file]   (default ../shared/recon-data)
 */
import { datasetCommand } from '../services/data/src/cli';

const target = process.argv[2] ?? '../shared/recon-data';
datasetCommand(() => Promise.reject(new Error('the tag report needs no database')))
  .parseAsync(['tags', target], { from: 'user' })
  .catch((error: Error) => {
    process.stderr.write(`econ-tags: ${error.message}\n`);
    process.exitCode = 1;
  });
