import { join } from 'node:path';
import type { Command } from 'commander';
import { renderAdrIndex } from './adr-index';
import { renderCliReference } from './cli-reference';
import { renderConfigurationReference } from './configuration-reference';
import { RUNTIME_ENVIRONMENT } from './environment-variables';
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
export function buildProgramForDocs(build: () => Command): Command {
  const names = RUNTIME_ENVIRONMENT.flatMap((group) => group.variables.map((variable) => variable.name));
  const saved = names.map((name) => [name, process.env[name]] as const);
  for (const name of names) delete process.env[name];
  try {
    return build();
  } finally {
    for (const [name, value] of saved) if (value !== undefined) process.env[name] = value;
  }
}

/** Every generated page; `npm run docs` writes them, test/docs/generated-docs.test.ts compares them. */
export function generatedDocs(root: string, buildProgram: () => Command): GeneratedDoc[] {
  return [
    { file: 'docs/cli.md', render: () => renderCliReference(buildProgramForDocs(buildProgram)) },
    { file: 'docs/configuration.md', render: () => renderConfigurationReference(root) },
    { file: 'docs/events.md', render: () => renderEventCatalogue() },
    { file: 'docs/adr/README.md', render: () => renderAdrIndex(join(root, 'docs/adr')) },
  ];
}
