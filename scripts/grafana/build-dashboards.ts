import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { buildDashboardFiles } from './dashboards';

/** Writes grafana/dashboards/*.json from scripts/grafana/dashboards.ts (run from dist/ or the repo root). */
const root = resolve(__dirname, __dirname.includes('/dist/') ? '../../..' : '../..');
for (const [file, text] of buildDashboardFiles()) {
  writeFileSync(join(root, 'grafana/dashboards', file), text);
  process.stdout.write(`wrote grafana/dashboards/${file}\n`);
}
