import type { BlobStore, EventStore } from '@recon/eventlog';

/** What the data service needs from the platform: the event log and the blob store. */
export interface DataStores {
  eventStore: EventStore;
  blobStore: BlobStore;
}
