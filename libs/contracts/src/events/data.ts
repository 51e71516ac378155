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

export const TeacherResponseReceived = defineEvent({
  type: 'teacher.response.received',
  version: 1,
  owner: 'data',
  description:
    'The outcome of one teacher request: the response body (a blob) when the HTTP call returned, else the failure (timeout, network, HTTP status).',
  payload: z.strictObject({
    ...distillationItem,
    attempt: z.number().int().min(1),
    outcome: z.enum(['ok', 'http-error', 'timeout', 'network-error', 'invalid-response']),
    httpStatus: z.number().int().min(100).max(599).optional(),
    responseBlobHash: sha256Hex.optional(),
    latencyMs: z.number().finite().nonnegative(),
    error: z.string().max(2000).optional(),
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

export const dataEvents = [
  DatasetRegistered,
  DatasetResolved,
  TeacherRequestSent,
  TeacherResponseReceived,
  TraceAccepted,
  TraceRejected,
] as const;
