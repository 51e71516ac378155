import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The bundled experiment configs (libs/experiment/presets/*.yaml), found from source or from dist/. */
export function presetDirectory(): string {
  for (let dir = __dirname; dir !== dirname(dir); dir = dirname(dir)) {
    const candidate = join(dir, 'libs', 'experiment', 'presets');
    if (existsSync(candidate)) return candidate;
  }
  throw new Error('the bundled experiment presets (libs/experiment/presets) were not found');
}

export function presetNames(): string[] {
  return readdirSync(presetDirectory())
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => f.replace(/\.yaml$/, ''))
    .sort();
}

/** A config argument is a file path, or the name of a bundled preset (e.g. `recon-mini`). */
export function resolveConfigPath(argument: string): string {
  if (existsSync(argument)) return argument;
  if (/^[a-z0-9-]+$/.test(argument) && presetNames().includes(argument))
    return join(presetDirectory(), `${argument}.yaml`);
  throw new Error(
    `config '${argument}': no such file, and not a bundled preset (${presetNames().join(', ')})`,
  );
}
