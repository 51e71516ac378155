import { basename } from 'node:path';
import type { PayloadOf } from '@recon/contracts';
import { deterministicEventId, WrongExpectedVersionError } from '@recon/eventlog';
import {
  importDataset as parseDataset,
  tagReport,
  type DatasetFormat,
  type ProblemRow,
  type RejectedRow,
} from '@recon/econ';
import { dataProducer } from './producer';
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
  const streamId = datasetStreamId(parsed.versionHash);
  const existing = await registrationOf(stores, streamId);
  if (existing) return { ...existing, rejected: parsed.rejected, registered: false, streamId };

  const blobHash = await stores.blobStore.put(parsed.canonical);
  const problems = parsed.rows.filter((row): row is ProblemRow => 'messages' in row);
  const payload: PayloadOf<'dataset.registered'> = {
    name: request.name ?? basename(request.file).replace(/\.[^.]+$/, ''),
    versionHash: parsed.versionHash,
    blobHash,
    rowCount: parsed.rows.length,
    source: basename(request.file),
    format: parsed.format,
    split: request.split ?? defaultSplit(request.file),
    ...(problems.length > 0 ? { categories: nonZero(tagReport('', problems.map(promptText)).counts) } : {}),
    ...(parsed.rejected.length > 0 ? { skippedRows: parsed.rejected.length } : {}),
  };
  try {
    await stores.eventStore.append(
      streamId,
      [
        {
          eventId: deterministicEventId('dataset.registered', parsed.versionHash),
          type: 'dataset.registered',
          payload,
        },
      ],
      { expectedVersion: 'no-stream', producer: dataProducer() },
    );
  } catch (error) {
    // Another import of the same content won the race: its registration is the one that counts.
    if (!(error instanceof WrongExpectedVersionError)) throw error;
    const winner = await registrationOf(stores, streamId);
    if (!winner) throw error;
    return { ...winner, rejected: parsed.rejected, registered: false, streamId };
  }
  return { ...pick(payload), rejected: parsed.rejected, registered: true, streamId };
}

export function promptText(row: ProblemRow): string {
  return row.messages.map((m) => m.content).join('\n');
}

function nonZero(counts: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(counts).filter(([, n]) => n > 0));
}

function pick(payload: PayloadOf<'dataset.registered'>) {
  const { name, versionHash, blobHash, rowCount, split } = payload;
  return { name, versionHash, blobHash, rowCount, split };
}

async function registrationOf(stores: DataStores, streamId: string) {
  const events = await stores.eventStore.readStream(streamId, { types: ['dataset.registered'] });
  const first = events[0];
  return first ? pick(first.payload as PayloadOf<'dataset.registered'>) : null;
}
