import { z } from 'zod';
import { defineEvent } from '../define-event';
import { nonNegativeInt, sha256Hex } from '../common';

export const datasetSplit = z.enum(['train', 'eval', 'sft', 'test']);

export const DatasetRegistered = defineEvent({
  type: 'dataset.registered',
  version: 1,
  owner: 'data',
  description:
    'A dataset version was imported: its rows are a content-addressed blob; versionHash identifies its canonical content.',
  payload: z.strictObject({
    name: z.string().min(1),
    versionHash: sha256Hex,
    blobHash: sha256Hex,
    rowCount: nonNegativeInt,
    source: z.string().min(1),
    format: z.enum(['recon-csv', 'recon-cot-csv', 'jsonl', 'generated']),
    split: datasetSplit,
    categories: z.record(z.string(), nonNegativeInt).optional(),
    skippedRows: nonNegativeInt.optional(),
  }),
});

export const DatasetResolved = defineEvent({
  type: 'dataset.resolved',
  version: 1,
  owner: 'data',
  description: 'The datasets a run uses, each pinned to a version hash.',
  payload: z.strictObject({
    datasets: z
      .array(
        z.strictObject({
          role: z.enum(['sft', 'grpo', 'eval']),
          name: z.string().min(1),
          versionHash: sha256Hex,
          blobHash: sha256Hex,
          split: datasetSplit,
          rowCount: nonNegativeInt,
        }),
      )
      .min(1),
  }),
});

/** One teacher-distillation item: a train row of a dataset version, asked of a teacher in a job. */
const distillationItem = {
  jobId: z.string().min(1).max(128),
  datasetVersion: sha256Hex,
  rowIndex: nonNegativeInt,
};

export const TeacherRequestSent = defineEvent({
  type: 'teacher.request.sent',
  version: 1,
  owner: 'data',
  description: 'A train prompt was sent to an OpenAI-compatible teacher; the request body is a blob.',
  payload: z.strictObject({
    ...distillationItem,
    attempt: z.number().int().min(1),
    endpoint: z.string().url(),
    model: z.string().min(1),
    requestBlobHash: sha256Hex,
  }),
});

/** The outcomes of one teacher call; v2 adds `cancelled` (the client stopped the call, e.g. Ctrl-C). */
const teacherResponseV1 = {
  ...distillationItem,
  attempt: z.number().int().min(1),
  outcome: z.enum(['ok', 'http-error', 'timeout', 'network-error', 'invalid-response']),
  httpStatus: z.number().int().min(100).max(599).optional(),
  responseBlobHash: sha256Hex.optional(),
  latencyMs: z.number().finite().nonnegative(),
  error: z.string().max(2000).optional(),
};

export const TeacherResponseReceived = defineEvent({
  type: 'teacher.response.received',
  version: 1,
  owner: 'data',
  description:
    'The outcome of one teacher request: the response body (a blob) when the HTTP call returned, else the failure (timeout, network, HTTP status).',
  payload: z.strictObject(teacherResponseV1),
});

export const TeacherResponseReceivedV2 = defineEvent({
  type: 'teacher.response.received',
  version: 2,
  owner: 'data',
  description:
    'The outcome of one teacher request: the response body (a blob) when the HTTP call returned, else the failure (timeout, network, HTTP status), or `cancelled` when this client stopped the call.',
  payload: z.strictObject({
    ...teacherResponseV1,
    outcome: z.enum(['ok', 'http-error', 'timeout', 'network-error', 'invalid-response', 'cancelled']),
  }),
});

export const TraceAccepted = defineEvent({
  type: 'trace.accepted',
  version: 1,
  owner: 'data',
  description:
    "A teacher trace whose final answer grades correct against its row's gold; the trace text is a blob.",
  payload: z.strictObject({ ...distillationItem, traceBlobHash: sha256Hex, answer: z.string() }),
});

export const TraceRejected = defineEvent({
  type: 'trace.rejected',
  version: 1,
  owner: 'data',
  description:
    'A distillation item that yields no trace: a wrong or missing answer, or a teacher that kept failing.',
  payload: z.strictObject({
    ...distillationItem,
    reason: z.enum(['wrong-answer', 'no-answer', 'teacher-failed']),
    answer: z.string().nullable(),
    traceBlobHash: sha256Hex.optional(),
    detail: z.string().max(2000).optional(),
  }),
});

/**
 * The first event of a distillation job: what it asks of which teacher. A later run of the same job id must
 * ask the same (teacher, sampling, source dataset, limit); the operational settings may differ.
 */
export const DistillationRequested = defineEvent({
  type: 'distillation.requested',
  version: 1,
  owner: 'data',
  description:
    "A distillation job: the teacher (OpenAI-compatible endpoint and model), the sampling, the source dataset version and the row limit it distils; the job's stream is `distillation-<jobId>`.",
  payload: z.strictObject({
    jobId: z.string().min(1).max(128),
    teacher: z.strictObject({ baseUrl: z.string().url(), model: z.string().min(1) }),
    sampling: z.strictObject({
      temperature: z.number().finite().min(0).optional(),
      maxTokens: z.number().int().min(1).optional(),
    }),
    source: z.strictObject({ name: z.string().min(1), versionHash: sha256Hex, rowCount: nonNegativeInt }),
    /** Only the first `limit` rows of the source are distilled; null for all of them. */
    limit: z.number().int().min(1).nullable(),
    items: nonNegativeInt,
    /** Concurrency, retries, timeout and backoff of the first run (later runs may change them). */
    settings: z.record(z.string(), z.number().finite()),
    requestedBy: z.string().min(1),
    codeVersion: z.string().min(1),
  }),
});

const distillationCounts = {
  jobId: z.string().min(1).max(128),
  items: nonNegativeInt,
  accepted: nonNegativeInt,
  rejected: z.strictObject({
    wrongAnswer: nonNegativeInt,
    noAnswer: nonNegativeInt,
    teacherFailed: nonNegativeInt,
  }),
};

export const DistillationCompleted = defineEvent({
  type: 'distillation.completed',
  version: 1,
  owner: 'data',
  description:
    "A run of a distillation job went through every item: the job's totals so far (each item counted once, by its last verdict).",
  payload: z.strictObject(distillationCounts),
});

export const DistillationDatasetRegistered = defineEvent({
  type: 'distillation.dataset.registered',
  version: 1,
  owner: 'data',
  description:
    "The job's accepted traces (those recorded up to `throughPosition` of its stream) became an SFT dataset version, registered on `dataset-<versionHash>`.",
  payload: z.strictObject({
    jobId: z.string().min(1).max(128),
    name: z.string().min(1),
    versionHash: sha256Hex,
    blobHash: sha256Hex,
    rowCount: nonNegativeInt,
    throughPosition: nonNegativeInt,
  }),
});

export const DatasetDerived = defineEvent({
  type: 'dataset.derived',
  version: 1,
  owner: 'data',
  description:
    "Where a dataset version's rows came from: the accepted traces of a distillation job (stream and position), distilled from a source dataset version.",
  payload: z.strictObject({
    versionHash: sha256Hex,
    from: z.strictObject({
      kind: z.literal('distillation'),
      jobId: z.string().min(1).max(128),
      streamId: z.string().min(1),
      throughPosition: nonNegativeInt,
      sourceVersionHash: sha256Hex,
      teacherModel: z.string().min(1),
    }),
  }),
});

export const dataEvents = [
  DatasetRegistered,
  DatasetResolved,
  DatasetDerived,
  TeacherRequestSent,
  TeacherResponseReceived,
  TeacherResponseReceivedV2,
  TraceAccepted,
  TraceRejected,
  DistillationRequested,
  DistillationCompleted,
  DistillationDatasetRegistered,
] as const;
