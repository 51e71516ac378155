/** Writes docs/asyncapi.yaml from libs/contracts (`npm run asyncapi`, from the repository root). */
import { mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { renderAsyncApiYaml } from '@recon/contracts';

const file = resolve(process.cwd(), 'docs/asyncapi.yaml');
mkdirSync(resolve(file, '..'), { recursive: true });
writeFileSync(file, renderAsyncApiYaml());
process.stdout.write(`wrote ${file}\n`);
