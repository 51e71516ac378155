import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { headingAnchor } from './markdown';

export interface BrokenLink {
  file: string;
  line: number;
  target: string;
  reason: string;
}

/** Lines outside fenced code blocks, with inline code spans blanked (links there are text, not links). */
function proseLines(text: string): Array<{ line: number; text: string }> {
  const lines: Array<{ line: number; text: string }> = [];
  let fenced = false;
  text.split('\n').forEach((line, i) => {
    if (/^\s*```/.test(line)) fenced = !fenced;
    else if (!fenced) lines.push({ line: i + 1, text: line.replace(/`[^`]*`/g, '``') });
  });
  return lines;
}

/** The anchors GitHub gives a file's headings (a repeated heading gets -1, -2, …). */
export function anchorsOf(text: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  let fenced = false;
  for (const line of text.split('\n')) {
    if (/^\s*```/.test(line)) fenced = !fenced;
    const heading = fenced ? null : /^#{1,6}\s+(.+?)\s*#*\s*$/.exec(line);
    if (!heading) continue;
    const base = headingAnchor(heading[1].replace(/\[([^\]]*)\]\([^)]*\)/g, '$1'));
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    anchors.add(count === 0 ? base : `${base}-${count}`);
  }
  return anchors;
}

/** Relative links (and their #anchors) in a markdown file that point at nothing. */
export function brokenLinks(root: string, file: string): BrokenLink[] {
  const absolute = join(root, file);
  const text = readFileSync(absolute, 'utf8');
  const broken: BrokenLink[] = [];
  for (const { line, text: prose } of proseLines(text))
    for (const match of prose.matchAll(/!?\[[^\]]*\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
      const target = match[1];
      if (/^[a-z][a-z+.-]*:/i.test(target)) continue;
      const [path, anchor] = target.split('#', 2);
      const resolved = path ? resolve(dirname(absolute), decodeURI(path)) : absolute;
      const report = (reason: string) => broken.push({ file, line, target, reason });
      if (!existsSync(resolved)) {
        report(`${relative(root, resolved)} does not exist`);
        continue;
      }
      if (anchor === undefined) continue;
      if (statSync(resolved).isDirectory() || !resolved.endsWith('.md')) {
        report('an anchor into a file that is not markdown');
        continue;
      }
      if (!anchorsOf(readFileSync(resolved, 'utf8')).has(anchor))
        report(`${relative(root, resolved)} has no heading #${anchor}`);
    }
  return broken;
}
