import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { RecordedEvent } from '@recon/eventlog';
import type { Platform } from '@recon/persistence';
import { trainingCharts } from './report-charts';
import { buildRunReport } from '@recon/run-report';

export interface WrittenRunReport {
  events: RecordedEvent[];
  report: string;
  reportFile: string;
  /** The SVG charts written beside the report (`<report>.sft-loss.svg`, …). */
  chartFiles: string[];
}

/**
 * Writes a run's report to `file` and its training charts beside it as `<file without .md>.<chart>.svg`, linked
 * from the markdown by their base names (so the report and its charts move together).
 */
export function writeReportFiles(
  runId: string,
  events: readonly RecordedEvent[],
  file: string,
): { report: string; chartFiles: string[] } {
  const stem = file.replace(/\.md$/i, '');
  const report = buildRunReport(runId, events, { chartBase: basename(stem) });
  mkdirSync(dirname(file), { recursive: true });
  const chartFiles = trainingCharts(events).map((chart) => {
    const chartFile = `${stem}.${chart.name}.svg`;
    writeFileSync(chartFile, chart.svg);
    return chartFile;
  });
  writeFileSync(file, report);
  return { report, chartFiles };
}

/** Builds a run's report from its events and writes it to `file`, by default `<home>/reports/<run>.md`. */
export async function writeRunReport(
  platform: Platform,
  runId: string,
  file?: string,
): Promise<WrittenRunReport> {
  const events = await platform.eventStore.readStream(runId);
  const reportFile = file ?? join(platform.home, 'reports', `${runId}.md`);
  const { report, chartFiles } = writeReportFiles(runId, events, reportFile);
  return { events, report, reportFile, chartFiles };
}
