import Table from 'cli-table3';

export interface OutputOptions {
  json?: boolean;
}

/** Prints rows as a table for people or as JSON for scripts (`--json`). */
export function printRows(
  rows: Array<Record<string, unknown>>,
  columns: string[],
  options: OutputOptions,
): void {
  if (options.json) {
    process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
    return;
  }
  if (rows.length === 0) {
    process.stdout.write('(none)\n');
    return;
  }
  const table = new Table({ head: columns, style: { head: [], border: [] }, wordWrap: true });
  for (const row of rows) table.push(columns.map((column) => formatCell(row[column])));
  process.stdout.write(`${table.toString()}\n`);
}

export function printJsonOr(value: unknown, human: () => string, options: OutputOptions): void {
  process.stdout.write(options.json ? `${JSON.stringify(value, null, 2)}\n` : `${human()}\n`);
}

function formatCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

export function truncate(text: string, length: number): string {
  return text.length <= length ? text : `${text.slice(0, length - 1)}…`;
}
