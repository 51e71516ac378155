import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { importDataset, type ProblemRow } from '../dataset/recon-dataset';
import { tagProblem } from '../tagger/tagger';
import { GOLD_CHECKERS } from './checkers';

export const GOLD_CHECK_FILES = ['train_dataset.csv', 'eval_dataset.csv'] as const;

export interface CategoryCheck {
  category: string;
  /** Problems solved and compared (agreed + disagreed). */
  checked: number;
  agreed: number;
  disagreed: number;
  /** Problems of the category the parser could not read fully. */
  unparsed: number;
}

export interface GoldFinding {
  file: string;
  /** CSV line where the row starts. */
  line: number;
  category: string;
  gold: string;
  computed: string;
  note?: string;
}

export interface UnparsedRow {
  file: string;
  line: number;
  category: string;
  reason: string;
}

export interface GoldCheckReport {
  files: string[];
  categories: CategoryCheck[];
  disagreements: GoldFinding[];
  /** Agreements worth a remark (e.g. several equilibria, gold among them). */
  notes: GoldFinding[];
  unparsed: UnparsedRow[];
}

/** The line each CSV record starts on, in record order (csv-parse reports where a record ends). */
function recordStartLines(text: string): number[] {
  const records = parse(text, { columns: true, info: true, skip_empty_lines: true }) as Array<{ info: { lines: number } }>;
  let previousEnd = 1;
  return records.map(({ info }) => {
    const start = previousEnd + 1;
    previousEnd = info.lines;
    return start;
  });
}

/**
 * Solves every problem of the checkable categories in the given Recon problem files and compares the result
 * with the gold label. The data is only read.
 */
export function goldCheck(dataDir: string, files: readonly string[] = GOLD_CHECK_FILES): GoldCheckReport {
  const stats = new Map<string, CategoryCheck>(
    Object.keys(GOLD_CHECKERS).map((category) => [category, { category, checked: 0, agreed: 0, disagreed: 0, unparsed: 0 }]),
  );
  const report: GoldCheckReport = { files: [...files], categories: [...stats.values()], disagreements: [], notes: [], unparsed: [] };
  for (const file of files) {
    const path = join(dataDir, file);
    const text = readFileSync(path, 'utf8');
    const lines = recordStartLines(text);
    const rows = importDataset(path, { text }).rows as ProblemRow[];
    if (lines.length !== rows.length) throw new Error(`${path}: ${lines.length} CSV records but ${rows.length} imported rows`);
    rows.forEach((row, k) => {
      const prompt = row.messages[row.messages.length - 1].content;
      const category = tagProblem(row.messages.map((m) => m.content).join('\n'));
      const checker = GOLD_CHECKERS[category as keyof typeof GOLD_CHECKERS];
      if (!checker) return;
      const stat = stats.get(category)!;
      const where = { file: basename(file), line: lines[k], category };
      const outcome = checker(prompt, row.gold);
      if ('unparsed' in outcome) {
        stat.unparsed += 1;
        report.unparsed.push({ ...where, reason: outcome.unparsed });
        return;
      }
      stat.checked += 1;
      const finding: GoldFinding = { ...where, gold: row.gold, computed: outcome.computed, ...(outcome.note ? { note: outcome.note } : {}) };
      if (outcome.agrees) {
        stat.agreed += 1;
        if (outcome.note) report.notes.push(finding);
      } else {
        stat.disagreed += 1;
        report.disagreements.push(finding);
      }
    });
  }
  return report;
}

/** A plain-text report: the per-category table, then each disagreement, note and unparsed row. */
export function formatGoldCheck(report: GoldCheckReport): string {
  const header = ['category', 'checked', 'agreed', 'disagreed', 'unparsed'];
  const rows = report.categories.map((c) => [c.category, ...[c.checked, c.agreed, c.disagreed, c.unparsed].map(String)]);
  const widths = header.map((_, i) => Math.max(...[header, ...rows].map((r) => r[i].length)));
  const line = (r: string[]) => r.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join('  ');
  const out = [`gold-label check of ${report.files.join(', ')}`, line(header), ...rows.map(line)];
  const finding = (f: GoldFinding) => `  ${f.file}:${f.line} [${f.category}] gold ${f.gold} | computed ${f.computed}${f.note ? ` (${f.note})` : ''}`;
  out.push(`disagreements (${report.disagreements.length}):`, ...report.disagreements.map(finding));
  if (report.notes.length > 0) out.push(`notes (${report.notes.length}):`, ...report.notes.map(finding));
  if (report.unparsed.length > 0) out.push(`unparsed (${report.unparsed.length}):`, ...report.unparsed.map((u) => `  ${u.file}:${u.line} [${u.category}] ${u.reason}`));
  return out.join('\n');
}
