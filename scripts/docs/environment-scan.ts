import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';

/** Code that runs as the platform: its environment reads are what docs/configuration.md must list. */
const RUNTIME_ROOTS = ['libs', 'services', 'apps'];
// libs/config declares every variable (ENVIRONMENT_VARIABLES); a declaration is not a read.
const SKIPPED = /(^|\/)(node_modules|dist|fixtures|reference)(\/|$)|\.(spec|test)\.ts$|^libs\/config\//;

const READS = [
  // Through libs/config: readEnvironment('RECON_HOME').
  /readEnvironment\(\s*['"]([A-Za-z_][A-Za-z0-9_]*)['"]/g,
  /process\.env\.([A-Za-z_][A-Za-z0-9_]*)/g,
  /process\.env\[\s*['"]([A-Za-z_][A-Za-z0-9_]*)['"]\s*\]/g,
  // An injected environment (`env: NodeJS.ProcessEnv = process.env`) read by name.
  /\benv\.([A-Z][A-Z0-9_]*)\b/g,
  /\benv\[\s*['"]([A-Z][A-Z0-9_]*)['"]\s*\]/g,
  // A key of an environment schema (`z.object({ KAFKA_BROKERS: ... })` parsed from process.env).
  /^\s+((?:RECON|KAFKA)_[A-Z0-9_]+)\s*:/gm,
  // A variable named by a constant (`export const CODE_VERSION_ENV = 'RECON_CODE_VERSION'`).
  /\b[A-Z][A-Z0-9_]*_ENV\s*=\s*['"]([A-Z][A-Z0-9_]*)['"]/g,
  // A read through the typed config module (`readEnvironment('RECON_HOME')`).
  /\breadEnvironment\(\s*['"]([A-Za-z_][A-Za-z0-9_]*)['"]/g,
];

function sourceFiles(root: string, dir: string): string[] {
  const absolute = join(root, dir);
  if (!existsSync(absolute)) return [];
  return (readdirSync(absolute, { recursive: true }) as string[])
    .map((file) => join(dir, file).split(sep).join('/'))
    .filter((file) => file.endsWith('.ts') && !SKIPPED.test(file));
}

/** The package a file belongs to: `libs/persistence`, `services/api`, `apps/explorer`. */
function packageOf(file: string): string {
  return file.split('/').slice(0, 2).join('/');
}

/** Every environment variable the platform's code reads, with the packages that read it. */
export function scanEnvironmentReads(root: string): Map<string, Set<string>> {
  const found = new Map<string, Set<string>>();
  for (const file of RUNTIME_ROOTS.flatMap((dir) => sourceFiles(root, dir))) {
    const text = readFileSync(join(root, file), 'utf8');
    for (const pattern of READS)
      for (const match of text.matchAll(pattern)) {
        const readers = found.get(match[1]) ?? new Set<string>();
        readers.add(packageOf(file));
        found.set(match[1], readers);
      }
  }
  return found;
}

export interface ScriptVariable {
  name: string;
  /** The `${NAME:-default}` text of its first appearance, as the script has it ('' for empty). */
  default: string;
  scripts: string[];
}

/** Variables the shell scripts under scripts/ read with a default (`${NAME:-default}`). */
export function scanScriptVariables(root: string): ScriptVariable[] {
  const files = (readdirSync(join(root, 'scripts'), { recursive: true }) as string[])
    .map((file) => `scripts/${file.split(sep).join('/')}`)
    .filter((file) => file.endsWith('.sh'))
    .sort();
  const variables = new Map<string, ScriptVariable>();
  for (const file of files) {
    const text = readFileSync(join(root, file), 'utf8');
    for (const match of text.matchAll(/\$\{([A-Z][A-Z0-9_]*):-([^}]*)\}/g)) {
      const variable = variables.get(match[1]) ?? { name: match[1], default: match[2], scripts: [] };
      if (!variable.scripts.includes(file)) variable.scripts.push(file);
      variables.set(match[1], variable);
    }
  }
  return [...variables.values()];
}

/** The repository root: the nearest directory above `from` holding package.json (source or dist/ layout). */
export function repositoryRoot(from: string): string {
  for (let dir = from; ; dir = join(dir, '..')) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (relative(dir, join(dir, '..')) === '') throw new Error(`no package.json above ${from}`);
  }
}
