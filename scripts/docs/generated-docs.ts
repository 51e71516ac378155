import { join } from 'node:path';
import type { Command } from 'commander';
import { ENVIRONMENT_VARIABLES } from '@recon/config';
import { buildProgram } from '../../apps/cli/src/main';
import { renderAdrIndex } from './adr-index';
import { renderCliReference } from './cli-reference';
import { renderConfigurationReference } from './configuration-reference';
import { renderEventCatalogue } from './events-reference';

export interface GeneratedDoc {
  /** Path from the repository root. */
  file: string;
  render: () => string;
}

/**
 * The CLI's tree as the code defines it, not as this machine's environment changes it (an option default
 * such as `recon service --port` reads PORT): built with every documented variable unset.
 */
export function buildProgramForDocs(build: () => Command = buildProgram): Command {
  const names = Object.keys(ENVIRONMENT_VARIABLES);
  const saved = names.map((name) => [name, process.env[name]] as const);
  for (const name of names) delete process.env[name];
  try {
    return build();
  } finally {
    for (const [name, value] of saved) if (value !== undefined) process.env[name] = value;
  }
}

/** Every generated page; `npm run docs` writes them, test/docs/generated-docs.test.ts compares them. */
export function generatedDocs(root: string): GeneratedDoc[] {
  return [
    { file: 'docs/cli.md', render: () => renderCliReference(buildProgramForDocs()) },
    { file: 'docs/configuration.md', render: () => renderConfigurationReference(root) },
    { file: 'docs/events.md', render: () => renderEventCatalogue() },
    { file: 'docs/adr/README.md', render: () => renderAdrIndex(join(root, 'docs/adr')) },
  ];
}
