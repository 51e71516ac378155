import type { ProblemRow, TraceRow } from '@recon/econ';
import { loadRegisteredDataset, type RegisteredDataset } from '@recon/persistence';
import type { DataStores } from './stores';

/** A registered dataset version's rows (see loadRegisteredDataset), typed as the econ rows. */
export function loadDataset(
  stores: DataStores,
  versionHash: string,
): Promise<RegisteredDataset<ProblemRow | TraceRow>> {
  return loadRegisteredDataset<ProblemRow | TraceRow>(stores, versionHash);
}
