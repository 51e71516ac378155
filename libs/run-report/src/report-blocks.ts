/**
 * The run report's markdown (buildRunReport) as blocks a page renders without an HTML parser: headings,
 * paragraphs, lists, tables and code. The report stays the one source of tables 3-5; the explorer and the
 * HTML export show the same words and numbers. Inline markup (`code`, **bold**) stays in the text: the
 * renderer turns it into elements, never into HTML.
 */
export type ReportBlock =
  | { kind: 'heading'; level: number; text: string }
  | { kind: 'paragraph'; text: string }
  | { kind: 'list'; items: string[] }
  | { kind: 'table'; head: string[]; rows: string[][] }
  | { kind: 'code'; text: string }
  | { kind: 'image'; alt: string; src: string };

/** A table row's cells, `\|` kept as a literal bar (report-format's table() escapes bars that way). */
function cells(line: string): string[] {
  const inner = line.trim().replace(/^\|/, '').replace(/\|$/, '');
  return inner.split(/(?<!\\)\|/).map((cell) => cell.trim().replace(/\\\|/g, '|'));
}

export function reportBlocks(markdown: string): ReportBlock[] {
  const lines = markdown.split('\n');
  const blocks: ReportBlock[] = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i];
    const heading = /^(#{1,6}) (.*)$/.exec(line);
    if (line.trim() === '') {
      i += 1;
    } else if (heading) {
      blocks.push({ kind: 'heading', level: heading[1].length, text: heading[2] });
      i += 1;
    } else if (line.startsWith('```')) {
      const body: string[] = [];
      i += 1;
      while (i < lines.length && !lines[i].startsWith('```')) body.push(lines[i++]);
      blocks.push({ kind: 'code', text: body.join('\n') });
      i += 1;
    } else if (line.startsWith('|') && /^\|\s*-/.test(lines[i + 1] ?? '')) {
      const head = cells(line);
      const rows: string[][] = [];
      i += 2;
      while (i < lines.length && lines[i].startsWith('|')) rows.push(cells(lines[i++]));
      blocks.push({ kind: 'table', head, rows });
    } else if (/^!\[[^\]]*\]\([^)]*\)$/.test(line.trim())) {
      const [, alt, src] = /^!\[([^\]]*)\]\(([^)]*)\)$/.exec(line.trim())!;
      blocks.push({ kind: 'image', alt, src });
      i += 1;
    } else if (/^[-*] /.test(line)) {
      const items: string[] = [];
      while (i < lines.length && /^[-*] /.test(lines[i])) items.push(lines[i++].slice(2));
      blocks.push({ kind: 'list', items });
    } else {
      const text: string[] = [];
      while (i < lines.length && lines[i].trim() !== '' && !/^(#|```|\||[-*] )/.test(lines[i]))
        text.push(lines[i++]);
      if (text.length === 0) text.push(lines[i++]);
      blocks.push({ kind: 'paragraph', text: text.join(' ') });
    }
  }
  return blocks;
}
