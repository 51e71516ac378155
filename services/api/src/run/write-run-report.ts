import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { RecordedEvent } from '@recon/eventlog';
import type { Platform } from '@recon/persistence';
import { buildRunReport } from './run-report';

export interface WrittenRunReport {
  events: RecordedEvent[];
  report: string;
  reportFile: string;
}

/** Builds a run's report from its events and writes it to `file`, by default `<home>/reports/<run>.md`. */
export async function writeRunReport(
  platform: Platform,
  runId: string,
  file?: string,
): Promise<WrittenRunReport> {
  const events = await platform.eventStore.readStream(runId);
  const report = buildRunReport(runId, events);
  const reportFile = file ?? join(platform.home, 'reports', `${runId}.md`);
  mkdirSync(dirname(reportFile), { recursive: true });
  writeFileSync(reportFile, report);
  return { events, report, reportFile };
}
