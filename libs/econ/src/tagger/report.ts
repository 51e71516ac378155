import { RECON_CATEGORIES, type CategoryTag } from './categories';
import { matchingCategories, tagProblem } from './tagger';

export interface SplitTagReport {
  split: string;
  total: number;
  counts: Record<CategoryTag, number>;
  /** Templates that match more than one rule, as `chosen <- also matched`, with how many problems. */
  ambiguous: Record<string, number>;
  /** Row indexes tagged `unknown` (at most 20). */
  unknownExamples: number[];
}

export function tagReport(split: string, promptTexts: readonly string[]): SplitTagReport {
  const counts = Object.fromEntries([...RECON_CATEGORIES, 'unknown'].map((c) => [c, 0])) as Record<CategoryTag, number>;
  const ambiguous: Record<string, number> = {};
  const unknownExamples: number[] = [];
  promptTexts.forEach((text, index) => {
    const tag = tagProblem(text);
    counts[tag] += 1;
    if (tag === 'unknown' && unknownExamples.length < 20) unknownExamples.push(index);
    const matches = matchingCategories(text);
    if (matches.length > 1) {
      const key = `${matches[0]} <- ${matches.slice(1).join(', ')}`;
      ambiguous[key] = (ambiguous[key] ?? 0) + 1;
    }
  });
  return { split, total: promptTexts.length, counts, ambiguous, unknownExamples };
}

/** A plain-text table: one row per category, one column per split. */
export function formatTagReport(reports: readonly SplitTagReport[]): string {
  const header = ['category', ...reports.map((r) => r.split)];
  const rows = [...RECON_CATEGORIES, 'unknown' as const].map((c) => [c, ...reports.map((r) => String(r.counts[c]))]);
  rows.push(['total', ...reports.map((r) => String(r.total))]);
  const widths = header.map((_, i) => Math.max(...[header, ...rows].map((row) => row[i].length)));
  const line = (row: string[]) => row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join('  ');
  const lines = [line(header), ...rows.map(line)];
  for (const r of reports) {
    for (const [key, n] of Object.entries(r.ambiguous)) lines.push(`${r.split}: ${n} problem(s) match several templates: ${key}`);
    if (r.unknownExamples.length > 0) lines.push(`${r.split}: unknown rows (index) ${r.unknownExamples.join(', ')}`);
  }
  return lines.join('\n');
}
