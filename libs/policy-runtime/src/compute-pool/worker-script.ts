import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';

/**
 * Compiles the worker's TypeScript on the fly with @swc/core, mapping `@recon/*` as .swcrc does: for tests,
 * which run the sources (jest's transform does not reach worker threads). Production runs dist/…/pool-worker.js.
 */
const TS_BOOTSTRAP = `
const { workerData } = require('node:worker_threads');
const fs = require('node:fs');
const { transformSync } = require(workerData.swc);
require.extensions['.ts'] = (module, filename) => {
  const { code } = transformSync(fs.readFileSync(filename, 'utf8'), {
    filename,
    swcrc: false,
    sourceMaps: 'inline',
    module: { type: 'commonjs', strictMode: true },
    jsc: {
      target: 'es2022',
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true },
      keepClassNames: true,
      baseUrl: workerData.root,
      paths: { '@recon/migrations': ['migrations'], '@recon/*': ['libs/*/src'] },
    },
  });
  module._compile(code, filename);
};
require(workerData.entry);
`;

/** Starts the pool's worker thread from the compiled script when this module is compiled, else from source. */
export function startWorkerThread(name: string): Worker {
  const compiled = path.join(__dirname, 'pool-worker.js');
  if (existsSync(compiled)) return new Worker(compiled, { name });
  const source = path.join(__dirname, 'pool-worker.ts');
  const root = path.resolve(__dirname, '../../../..');
  return new Worker(TS_BOOTSTRAP, {
    eval: true,
    name,
    workerData: { entry: source, root, swc: require.resolve('@swc/core') },
  });
}
