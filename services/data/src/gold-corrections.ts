import type { PayloadOf } from '@recon/contracts';
import {
  checkGoldRows,
  GOLD_CHECK_VERSION,
  goldShapeOf,
  tagReport,
  type ProblemRow,
  type RowsGoldCheck,
} from '@recon/econ';
import { deterministicEventId, type RecordedEvent } from '@recon/eventlog';
import { datasetStreamId, loadRegisteredDataset } from '@recon/persistence';
import { promptText } from './import-dataset';
import { dataProducer } from './producer';
import { registerDatasetRows, type Registration } from './register-rows';
import type { DataStores } from './stores';

type Correction = PayloadOf<'dataset.gold.corrected'>;

export interface GoldCheckOutcome {
  dataset: Registration;
  check: RowsGoldCheck;
  /** The corrections recorded by this call (none without `correct`, or when they were recorded before). */
  corrected: Correction[];
}

async function problemDataset(stores: DataStores, versionHash: string) {
  const dataset = await loadRegisteredDataset<ProblemRow>(stores, versionHash);
  if (dataset.kind !== 'problems')
    throw new Error(
      `dataset ${dataset.registration.name} (${versionHash}) holds traces, not problems with gold answers: nothing to check`,
    );
  return dataset;
}

/**
 * Checks the golds of a registered problem version against the solvers and records the check
 * (`dataset.gold.checked`) on the version's stream. With `correct`, every gold that no reading of its problem
 * gives is recorded as corrected (`dataset.gold.corrected`): to the answer all readings give, or withdrawn
 * (null) when they give different answers. Checking again records nothing new.
 */
export async function checkDatasetGold(
  stores: DataStores,
  versionHash: string,
  options: { correct?: boolean } = {},
): Promise<GoldCheckOutcome> {
  const dataset = await problemDataset(stores, versionHash);
  const check = checkGoldRows(dataset.rows);
  const streamId = datasetStreamId(versionHash);
  const corrections: Correction[] = options.correct
    ? check.disagreements
        .filter((d) => d.verdict === 'disagrees')
        .map((d) => ({
          datasetVersion: versionHash,
          rowIndex: d.rowIndex,
          category: d.category,
          originalGold: d.gold,
          correctedGold: d.correction ?? null,
          checker: { name: d.checker, version: GOLD_CHECK_VERSION },
          evidence: (d.correction
            ? d.evidence
            : `the readings give different answers (${d.computed}), none of them the gold: ${d.evidence}`
          ).slice(0, 4000),
        }))
    : [];
  const known = new Set((await recordedCorrections(stores, versionHash)).map((c) => c.eventId));
  const events = [
    {
      eventId: deterministicEventId(streamId, 'dataset.gold.checked', GOLD_CHECK_VERSION),
      type: 'dataset.gold.checked' as const,
      payload: {
        datasetVersion: versionHash,
        checkerVersion: GOLD_CHECK_VERSION,
        categories: check.categories,
        disagreements: check.disagreements.map((d) => ({ ...d, evidence: d.evidence.slice(0, 4000) })),
      },
    },
    ...corrections.map((payload) => ({
      eventId: correctionEventId(payload),
      type: 'dataset.gold.corrected' as const,
      payload,
    })),
  ];
  // Event ids are content-derived: a repeated check or correction is recognised and not written twice.
  await stores.eventStore.append(streamId, events, { expectedVersion: 'any', producer: dataProducer() });
  const { name, blobHash, rowCount, split } = dataset.registration;
  return {
    dataset: { name, versionHash, blobHash, rowCount, split },
    check,
    corrected: corrections.filter((c) => !known.has(correctionEventId(c))),
  };
}

function correctionEventId(c: Correction): string {
  return deterministicEventId(
    datasetStreamId(c.datasetVersion),
    'dataset.gold.corrected',
    c.rowIndex,
    c.checker.name,
    c.checker.version,
  );
}

/** The gold corrections recorded for a version, in recording order (a row's last correction is the one that counts). */
export async function recordedCorrections(
  stores: DataStores,
  versionHash: string,
): Promise<Array<{ eventId: string; payload: Correction }>> {
  const events: RecordedEvent[] = await stores.eventStore.readStream(datasetStreamId(versionHash), {
    types: ['dataset.gold.corrected'],
  });
  return events.map((e) => ({ eventId: e.eventId, payload: e.payload as Correction }));
}

export interface CorrectedVersion {
  registration: Registration;
  /** The corrections applied, one per row (empty when the version has none: `registration` is the version itself). */
  applied: Array<{ eventId: string; payload: Correction }>;
}

/**
 * The version a run uses for a registered problem version: the version itself when no gold correction is
 * recorded for it, else a derived version (registered once, with its `dataset.derived` lineage) whose rows
 * carry the corrected golds and leave out the withdrawn ones. Rows keep their `index`, so an item is named
 * as in the source.
 */
export async function withGoldCorrections(
  stores: DataStores,
  source: Registration,
): Promise<CorrectedVersion> {
  const byRow = new Map<number, { eventId: string; payload: Correction }>();
  for (const c of await recordedCorrections(stores, source.versionHash)) byRow.set(c.payload.rowIndex, c);
  if (byRow.size === 0) return { registration: source, applied: [] };
  const dataset = await problemDataset(stores, source.versionHash);
  const rows: ProblemRow[] = [];
  dataset.rows.forEach((row, rowIndex) => {
    const correction = byRow.get(rowIndex)?.payload;
    if (!correction) rows.push(row);
    else if (correction.correctedGold !== null) {
      const goldShape = goldShapeOf(correction.correctedGold);
      if (goldShape === null)
        throw new Error(
          `gold correction of ${source.name} row ${rowIndex}: '${correction.correctedGold}' is not a gold answer`,
        );
      rows.push({ ...row, gold: correction.correctedGold, goldShape });
    }
  });
  const applied = [...byRow.entries()].sort(([a], [b]) => a - b).map(([, c]) => c);
  const { registration } = dataset;
  const derived = await registerDatasetRows(stores, {
    name: `${source.name}+gold-corrected`,
    kind: 'problems',
    rows,
    source: registration.source,
    format: registration.format,
    split: registration.split,
    categories: Object.fromEntries(
      Object.entries(tagReport('', rows.map(promptText)).counts).filter(([, n]) => n > 0),
    ),
  });
  await stores.eventStore.append(
    datasetStreamId(derived.versionHash),
    [
      {
        eventId: deterministicEventId(datasetStreamId(derived.versionHash), 'dataset.derived'),
        type: 'dataset.derived',
        payload: {
          versionHash: derived.versionHash,
          from: {
            kind: 'gold-corrections',
            sourceVersionHash: source.versionHash,
            corrections: applied.map((c) => ({ eventId: c.eventId, rowIndex: c.payload.rowIndex })),
          },
        },
      },
    ],
    { expectedVersion: 'any', producer: dataProducer() },
  );
  return { registration: derived, applied };
}
