/**
 * Writes the generated documentation (`npm run docs`): docs/cli.md from the CLI's command tree,
 * docs/configuration.md from the experiment schema and the environment reads, docs/events.md from the event
 * registry and docs/adr/README.md from the records. test/docs/generated-docs.test.ts fails when one is stale.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repositoryRoot } from './docs/environment-scan';
import { generatedDocs } from './docs/generated-docs';

const root = repositoryRoot(__dirname);
for (const doc of generatedDocs(root)) {
  writeFileSync(join(root, doc.file), doc.render());
  process.stdout.write(`wrote ${doc.file}\n`);
}
