import { basename } from 'node:path';
import type { PayloadOf } from '@recon/contracts';
import {
  importDataset as parseDataset,
  tagReport,
  type DatasetFormat,
  type ProblemRow,
  type RejectedRow,
} from '@recon/econ';
import { registerDatasetVersion } from './register-rows';
import type { DataStores } from './stores';
import { datasetStreamId } from '@recon/persistence';

export type DatasetSplit = PayloadOf<'dataset.registered'>['split'];

export interface ImportDatasetRequest {
  file: string;
  format?: DatasetFormat;
  /** Defaults from the file name: *eval* -> eval, *cot* / *sft* -> sft, otherwise train. */
  split?: DatasetSplit;
  /** Defaults to the file name without its extension. */
  name?: string;
  skipInvalid?: boolean;
}

export interface ImportDatasetResult {
  name: string;
  versionHash: string;
  blobHash: string;
  rowCount: number;
  split: DatasetSplit;
  rejected: RejectedRow[];
  /** False when this content was already registered: nothing new was written. */
  registered: boolean;
  streamId: string;
}

export { datasetStreamId };

function defaultSplit(file: string): DatasetSplit {
  const name = basename(file).toLowerCase();
  if (name.includes('eval')) return 'eval';
  if (name.includes('cot') || name.includes('sft')) return 'sft';
  return 'train';
}

/**
 * Imports a dataset file: validates every row (see @recon/econ importDataset), stores the canonical rows as a
 * blob and registers the version with one `dataset.registered` event on the stream `dataset-<versionHash>`.
 * Importing the same content again returns the existing registration and writes nothing.
 */
export async function importDataset(
  request: ImportDatasetRequest,
  stores: DataStores,
): Promise<ImportDatasetResult> {
  const parsed = parseDataset(request.file, { format: request.format, skipInvalid: request.skipInvalid });
  const version = { versionHash: parsed.versionHash, content: parsed.canonical };
  const { registration, registered, streamId } = await registerDatasetVersion(stores, version, (blobHash) => {
    const problems = parsed.rows.filter((row): row is ProblemRow => 'messages' in row);
    return {
      name: request.name ?? basename(request.file).replace(/\.[^.]+$/, ''),
      versionHash: parsed.versionHash,
      blobHash,
      rowCount: parsed.rows.length,
      source: basename(request.file),
      format: parsed.format,
      split: request.split ?? defaultSplit(request.file),
      ...(problems.length > 0 ? { categories: nonZero(tagReport('', problems.map(promptText)).counts) } : {}),
      ...(parsed.rejected.length > 0
        ? {
            skippedRows: parsed.rejected.length,
            skipped: parsed.rejected
              .slice(0, 10_000)
              .map((r) => ({ line: r.line, reason: r.reason.slice(0, 500) })),
          }
        : {}),
    };
  });
  return { ...registration, rejected: parsed.rejected, registered, streamId };
}

export function promptText(row: ProblemRow): string {
  return row.messages.map((m) => m.content).join('\n');
}

function nonZero(counts: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(counts).filter(([, n]) => n > 0));
}
