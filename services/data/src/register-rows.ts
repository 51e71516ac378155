import type { PayloadOf } from '@recon/contracts';
import { canonicalJson, deterministicEventId, sha256Hex, WrongExpectedVersionError } from '@recon/eventlog';
import { datasetStreamId } from '@recon/persistence';
import { dataProducer } from './producer';
import type { DataStores } from './stores';

export interface DatasetRows {
  name: string;
  kind: 'problems' | 'traces';
  rows: unknown[];
  source: string;
  format: PayloadOf<'dataset.registered'>['format'];
  split: PayloadOf<'dataset.registered'>['split'];
  categories?: Record<string, number>;
}

export type Registration = Pick<
  PayloadOf<'dataset.registered'>,
  'name' | 'versionHash' | 'blobHash' | 'rowCount' | 'split'
>;

/**
 * Stores rows as one content-addressed blob and registers the version (hash of the canonical rows) with
 * `dataset.registered` on its own stream. Registering the same content again writes nothing.
 */
export async function registerDatasetRows(stores: DataStores, dataset: DatasetRows): Promise<Registration> {
  const content = canonicalJson({ kind: dataset.kind, rows: dataset.rows });
  const versionHash = sha256Hex(content);
  const streamId = datasetStreamId(versionHash);
  const existing = await registrationOf(stores, streamId);
  if (existing) return existing;
  const blobHash = await stores.blobStore.put(content);
  const payload: PayloadOf<'dataset.registered'> = {
    name: dataset.name,
    versionHash,
    blobHash,
    rowCount: dataset.rows.length,
    source: dataset.source,
    format: dataset.format,
    split: dataset.split,
    ...(dataset.categories ? { categories: dataset.categories } : {}),
  };
  try {
    await stores.eventStore.append(
      streamId,
      [
        {
          eventId: deterministicEventId('dataset.registered', versionHash),
          type: 'dataset.registered',
          payload,
        },
      ],
      { expectedVersion: 'no-stream', producer: dataProducer() },
    );
  } catch (error) {
    if (!(error instanceof WrongExpectedVersionError)) throw error;
    const winner = await registrationOf(stores, streamId);
    if (!winner) throw error;
    return winner;
  }
  return { name: payload.name, versionHash, blobHash, rowCount: payload.rowCount, split: payload.split };
}

async function registrationOf(stores: DataStores, streamId: string): Promise<Registration | null> {
  const [event] = await stores.eventStore.readStream(streamId, { types: ['dataset.registered'] });
  if (!event) return null;
  const { name, versionHash, blobHash, rowCount, split } = event.payload as PayloadOf<'dataset.registered'>;
  return { name, versionHash, blobHash, rowCount, split };
}
