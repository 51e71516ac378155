import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { escapeText, generatedNotice, table } from './markdown';

/** docs/adr/README.md: every architecture decision record in docs/adr, with its title and status line. */
export function renderAdrIndex(adrDir: string): string {
  const records = readdirSync(adrDir)
    .filter((file) => /^\d{4}-.*\.md$/.test(file))
    .sort()
    .map((file) => {
      const text = readFileSync(join(adrDir, file), 'utf8');
      const title = /^#\s+(.+)$/m.exec(text)?.[1].trim() ?? file;
      const status = /^Status:\s*(.+)$/m.exec(text)?.[1].trim() ?? '';
      return [`[${escapeText(title)}](${file})`, escapeText(status)];
    });
  return [
    generatedNotice('the records in docs/adr'),
    '',
    '# Architecture decision records',
    '',
    'Where the platform departs from its design card, or picks one design among several, and why. A new',
    'record is the next number, `NNNN-what-was-decided.md`, with a `Status:` line; `npm run docs` lists it here.',
    '',
    table(['record', 'status'], records),
    '',
  ].join('\n');
}
