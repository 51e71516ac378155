import { importDataset as parseDataset, type ProblemRow, type RejectedRow } from '@recon/econ';
import { deterministicEventId, type RecordedEvent } from '@recon/eventlog';
import { datasetStreamId } from '@recon/persistence';
import { promptText } from '../import-dataset';
import { loadDataset } from '../load-dataset';
import { dataProducer } from '../producer';
import { registerDatasetVersion } from '../register-rows';
import type { DataStores } from '../stores';
import { distillationStreamId, jobState } from './job-state';

export interface DistilledDataset {
  name: string;
  versionHash: string;
  rowCount: number;
  /** False when these rows were registered before (under the name they were first registered with). */
  registered: boolean;
  /** The JSONL the dataset's rows are read from: importing it gives the same version. */
  jsonl: string;
  /** Accepted traces the SFT import refuses (no `</think>`, or no box after it); not in the dataset. */
  skipped: RejectedRow[];
}

/** The job has nothing to turn into a dataset; nothing is registered. */
export class NoAcceptedTracesError extends Error {
  constructor(jobId: string, why: string) {
    super(`distillation job ${jobId}: ${why}; no dataset registered`);
    this.name = 'NoAcceptedTracesError';
  }
}

/** The source dataset of a job: from its first event, or (for a job recorded before it) from its items. */
function sourceVersionOf(
  events: readonly RecordedEvent[],
): { versionHash: string; teacherModel: string } | null {
  const first = events[0];
  if (first?.type === 'distillation.requested') {
    const request = first.payload;
    return { versionHash: request.source.versionHash, teacherModel: request.teacher.model };
  }
  const sent = events.find((e) => e.type === 'teacher.request.sent')?.payload;
  return sent ? { versionHash: sent.datasetVersion, teacherModel: sent.model } : null;
}

/**
 * Turns a distillation job's accepted traces into an SFT dataset: one `{prompt, response}` row per accepted
 * item in row order (the prompt the teacher was asked, the trace it answered), validated and hashed exactly
 * as `recon dataset import` does a Recon-CoT JSONL, and registered under `name` (split `sft`). The lineage
 * is recorded both ways: `dataset.derived` on the dataset's stream names the job and how far into its stream
 * the traces were read; `distillation.dataset.registered` on the job's stream names the dataset version.
 */
export async function registerDistilledDataset(
  stores: DataStores,
  jobId: string,
  name: string,
): Promise<DistilledDataset> {
  const streamId = distillationStreamId(jobId);
  const events = await stores.eventStore.readStream(streamId);
  const source = sourceVersionOf(events);
  if (!source) throw new NoAcceptedTracesError(jobId, 'no such job');
  // The last verdict read: registering again before the job changes records nothing new.
  const throughPosition = Math.max(
    0,
    ...events
      .filter((e) => e.type === 'trace.accepted' || e.type === 'trace.rejected')
      .map((e) => e.position),
  );
  const sourceRows = (await loadDataset(stores, source.versionHash)).rows as ProblemRow[];
  const accepted = [...jobState(events)]
    .filter(([, item]) => item.terminal === 'accepted' && item.acceptedTraceBlob)
    .sort(([a], [b]) => a - b);
  if (accepted.length === 0) throw new NoAcceptedTracesError(jobId, 'no trace was accepted');
  const lines: string[] = [];
  for (const [rowIndex, item] of accepted) {
    const response = (await stores.blobStore.get(item.acceptedTraceBlob!)).toString('utf8');
    lines.push(JSON.stringify({ prompt: promptText(sourceRows[rowIndex]), response }));
  }
  const jsonl = `${lines.join('\n')}\n`;
  const file = `${streamId}.jsonl`;
  let parsed;
  try {
    parsed = parseDataset(file, { format: 'jsonl', text: jsonl, skipInvalid: true });
  } catch {
    throw new NoAcceptedTracesError(
      jobId,
      `none of its ${accepted.length} accepted trace(s) is a valid SFT row`,
    );
  }
  const { registration, registered } = await registerDatasetVersion(
    stores,
    { versionHash: parsed.versionHash, content: parsed.canonical },
    (blobHash) => ({
      name,
      versionHash: parsed.versionHash,
      blobHash,
      rowCount: parsed.rows.length,
      source: file,
      format: 'jsonl',
      split: 'sft',
      ...(parsed.rejected.length > 0
        ? {
            skippedRows: parsed.rejected.length,
            skipped: parsed.rejected.map(({ line, reason }) => ({ line, reason: reason.slice(0, 500) })),
          }
        : {}),
    }),
  );
  const producer = dataProducer();
  await stores.eventStore.append(
    datasetStreamId(registration.versionHash),
    [
      {
        eventId: deterministicEventId('dataset.derived', registration.versionHash, jobId, throughPosition),
        type: 'dataset.derived',
        payload: {
          versionHash: registration.versionHash,
          from: {
            kind: 'distillation',
            jobId,
            streamId,
            throughPosition,
            sourceVersionHash: source.versionHash,
            teacherModel: source.teacherModel,
          },
        },
      },
    ],
    { expectedVersion: 'any', producer },
  );
  await stores.eventStore.append(
    streamId,
    [
      {
        eventId: deterministicEventId(
          'distillation',
          jobId,
          'dataset',
          registration.versionHash,
          throughPosition,
        ),
        type: 'distillation.dataset.registered',
        payload: {
          jobId,
          name: registration.name,
          versionHash: registration.versionHash,
          blobHash: registration.blobHash,
          rowCount: registration.rowCount,
          throughPosition,
        },
      },
    ],
    { expectedVersion: 'any', producer },
  );
  return {
    name: registration.name,
    versionHash: registration.versionHash,
    rowCount: registration.rowCount,
    registered,
    jsonl,
    skipped: parsed.rejected,
  };
}
