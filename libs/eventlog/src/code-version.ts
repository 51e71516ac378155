import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** Set by an image build (or a release script) to the version of the code it packs; wins over everything. */
export const CODE_VERSION_ENV = 'RECON_CODE_VERSION';

/** The directory holding the package.json of the package this file belongs to (source or dist). */
export function packageRoot(codeDir: string): string | null {
  for (let dir = codeDir; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) return null;
  }
}

function git(root: string, args: string[]): string | null {
  try {
    return execFileSync('git', ['-C', root, ...args], { stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .trim();
  } catch {
    return null;
  }
}

/**
 * The version of the code that runs, as runs record it. In order: `RECON_CODE_VERSION` (baked by an image
 * build); the commit of the git checkout the package itself is (found from the code's own directory, never
 * the current one, and only when the checkout's top is the package root, so a package installed inside
 * another repository does not take that repository's commit); else `package-<version>` of its package.json.
 */
export function resolveCodeVersion(codeDir: string, env: NodeJS.ProcessEnv = process.env): string {
  const baked = env[CODE_VERSION_ENV]?.trim();
  if (baked) return baked;
  const root = packageRoot(codeDir);
  if (!root) return 'package-unknown';
  const top = git(root, ['rev-parse', '--show-toplevel']);
  if (top && realpathSync(top) === realpathSync(root)) {
    const commit = git(root, ['rev-parse', '--short=12', 'HEAD']);
    if (commit) return commit;
  }
  const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version?: string };
  return `package-${version ?? 'unknown'}`;
}

let cached: string | undefined;

/** The code version recorded with runs (see resolveCodeVersion), resolved once per process. */
export function codeVersion(): string {
  cached ??= resolveCodeVersion(__dirname);
  return cached;
}
