import * as fs from 'node:fs';
import * as path from 'node:path';

/** A path in the repository, from this file's directory whether it runs as source (jest) or from dist/. */
export function repoPath(...parts: string[]): string {
  for (let dir = __dirname; dir !== path.dirname(dir); dir = path.dirname(dir))
    if (fs.existsSync(path.join(dir, 'package.json')) && fs.existsSync(path.join(dir, 'bench', 'pretrained')))
      return path.join(dir, ...parts);
  throw new Error(
    `${__dirname}: not inside the repository (no package.json beside bench/pretrained above it)`,
  );
}
