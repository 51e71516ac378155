import type { PayloadOf } from '@recon/contracts';
import type { BlobStore, EventStore } from '@recon/eventlog';

/** The stream holding a dataset version's registration (one stream per version, named by its hash). */
export function datasetStreamId(versionHash: string): string {
  return `dataset-${versionHash}`;
}

/** A dataset version hash that no `dataset.registered` event names. */
export class DatasetNotRegisteredError extends Error {
  constructor(readonly versionHash: string) {
    super(`dataset version ${versionHash} is not registered`);
    this.name = 'DatasetNotRegisteredError';
  }
}

export interface RegisteredDataset<Row = unknown> {
  registration: PayloadOf<'dataset.registered'>;
  kind: 'problems' | 'traces';
  rows: Row[];
}

/**
 * A registered dataset version's rows, read back from the blob its registration names. Any service may
 * read a dataset this way: from the log and the blob store, never from the data service's tables.
 */
export async function loadRegisteredDataset<Row = unknown>(
  stores: { eventStore: EventStore; blobStore: BlobStore },
  versionHash: string,
): Promise<RegisteredDataset<Row>> {
  const [event] = await stores.eventStore.readStream(datasetStreamId(versionHash), {
    types: ['dataset.registered'],
  });
  if (!event) throw new DatasetNotRegisteredError(versionHash);
  const registration = event.payload;
  const content = JSON.parse((await stores.blobStore.get(registration.blobHash)).toString('utf8')) as {
    kind: 'problems' | 'traces';
    rows: Row[];
  };
  return { registration, kind: content.kind, rows: content.rows };
}
