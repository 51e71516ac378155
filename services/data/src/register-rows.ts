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
  const { registration } = await registerDatasetVersion(stores, { versionHash, content }, (blobHash) => ({
    name: dataset.name,
    versionHash,
    blobHash,
    rowCount: dataset.rows.length,
    source: dataset.source,
    format: dataset.format,
    split: dataset.split,
    ...(dataset.categories ? { categories: dataset.categories } : {}),
  }));
  return registration;
}

export interface DatasetVersion {
  versionHash: string;
  /** What the blob store keeps: the canonical rows that `versionHash` is the hash of. */
  content: string;
}

/**
 * Registers a dataset version once: stores its content as a blob and appends `dataset.registered` (the
 * payload `payloadFor` builds around the blob hash) on the stream `dataset-<versionHash>`. A version
 * registered already, earlier or by a concurrent call that won the race, is returned and nothing is written.
 */
export async function registerDatasetVersion(
  stores: DataStores,
  version: DatasetVersion,
  payloadFor: (blobHash: string) => PayloadOf<'dataset.registered'>,
): Promise<{ registration: Registration; registered: boolean; streamId: string }> {
  const { versionHash } = version;
  const streamId = datasetStreamId(versionHash);
  const existing = await registrationOf(stores, streamId);
  if (existing) return { registration: existing, registered: false, streamId };
  const payload = payloadFor(await stores.blobStore.put(version.content));
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
    // Another registration of the same content won the race: its event is the one that counts.
    if (!(error instanceof WrongExpectedVersionError)) throw error;
    const winner = await registrationOf(stores, streamId);
    if (!winner) throw error;
    return { registration: winner, registered: false, streamId };
  }
  return { registration: registrationIn(payload), registered: true, streamId };
}

function registrationIn(payload: PayloadOf<'dataset.registered'>): Registration {
  const { name, versionHash, blobHash, rowCount, split } = payload;
  return { name, versionHash, blobHash, rowCount, split };
}

async function registrationOf(stores: DataStores, streamId: string): Promise<Registration | null> {
  const [event] = await stores.eventStore.readStream(streamId, { types: ['dataset.registered'] });
  return event ? registrationIn(event.payload) : null;
}
