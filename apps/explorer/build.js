// Bundles the run explorer (apps/explorer) into dist/explorer: app.js, app.css and index.html, which the
// gateway serves (services/api/src/explorer). esbuild alone, no type check (tsc -p apps/explorer does that).
const { build } = require('esbuild');
const { copyFileSync, mkdirSync } = require('node:fs');
const { join } = require('node:path');

const out = join(__dirname, '../../dist/explorer');
mkdirSync(out, { recursive: true });
const common = { bundle: true, minify: true, logLevel: 'warning', legalComments: 'none' };
Promise.all([
  build({
    ...common,
    entryPoints: [join(__dirname, 'src/main.ts')],
    outfile: join(out, 'app.js'),
    format: 'iife',
    target: 'es2020',
  }),
  build({ ...common, entryPoints: [join(__dirname, 'src/app.css')], outfile: join(out, 'app.css') }),
]).then(
  () => copyFileSync(join(__dirname, 'index.html'), join(out, 'index.html')),
  (error) => {
    console.error(`explorer build failed: ${error.message}`);
    process.exit(1);
  },
);
