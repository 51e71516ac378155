import { z } from 'zod';
import { defineEvent } from '../define-event';
import { jsonObject, nonNegativeInt, sha256Hex } from '../common';

/** The suites an external model is evaluated on (`recon eval --suite`). */
export const EXTERNAL_SUITES = ['recon-eval', 'complete-info', 'gtbench'] as const;
export type ExternalSuite = (typeof EXTERNAL_SUITES)[number];

/** One call of an external model: which request of the evaluation, and which attempt of it. */
const externalCall = {
  /** What was asked: `recon-eval/<item>`, or `<match id>#<decision>` in a game. */
  requestId: z.string().min(1).max(512),
  suite: z.enum(EXTERNAL_SUITES),
  attempt: z.number().int().min(1),
};

export const ExternalEvaluationRequested = defineEvent({
  type: 'external.evaluation.requested',
  version: 1,
  owner: 'evaluation',
  description:
    'An OpenAI-compatible model is evaluated on the named suites (`recon eval --policy openai:<url>`); the stream is the evaluation.',
  payload: z.strictObject({
    policy: z.strictObject({
      kind: z.literal('openai'),
      baseUrl: z.string().url(),
      model: z.string().min(1),
    }),
    suites: z.array(z.enum(EXTERNAL_SUITES)).min(1),
    seed: nonNegativeInt,
    /** Sampling, match counts, opponents, concurrency, retries and timeouts, as given. */
    settings: jsonObject,
    datasets: z.array(
      z.strictObject({
        role: z.literal('eval'),
        name: z.string().min(1),
        versionHash: sha256Hex,
        rowCount: nonNegativeInt,
      }),
    ),
    requestedBy: z.string().min(1),
    codeVersion: z.string().min(1),
  }),
});

export const ExternalRequestSent = defineEvent({
  type: 'external.request.sent',
  version: 1,
  owner: 'evaluation',
  description: 'A chat request was sent to the external model; the request body is a blob.',
  payload: z.strictObject({
    ...externalCall,
    endpoint: z.string().url(),
    model: z.string().min(1),
    requestBlobHash: sha256Hex,
  }),
});

const externalResponseV1 = {
  ...externalCall,
  outcome: z.enum(['ok', 'http-error', 'timeout', 'network-error', 'invalid-response']),
  httpStatus: z.number().int().min(100).max(599).optional(),
  responseBlobHash: sha256Hex.optional(),
  latencyMs: z.number().finite().nonnegative(),
  usage: z.strictObject({ promptTokens: nonNegativeInt, completionTokens: nonNegativeInt }).optional(),
  error: z.string().max(2000).optional(),
};

export const ExternalResponseReceived = defineEvent({
  type: 'external.response.received',
  version: 1,
  owner: 'evaluation',
  description:
    'The outcome of one external-model request: the response body (a blob) when the HTTP call returned, else the failure (timeout, network, HTTP status).',
  payload: z.strictObject(externalResponseV1),
});

export const ExternalResponseReceivedV2 = defineEvent({
  type: 'external.response.received',
  version: 2,
  owner: 'evaluation',
  description:
    'The outcome of one external-model request: the response body (a blob) when the HTTP call returned, else the failure (timeout, network, HTTP status), or `cancelled` when this client stopped the call before an answer (the evaluation stopped or was interrupted).',
  payload: z.strictObject({
    ...externalResponseV1,
    outcome: z.enum(['ok', 'http-error', 'timeout', 'network-error', 'invalid-response', 'cancelled']),
  }),
});

export const ExternalEvaluationResumed = defineEvent({
  type: 'external.evaluation.resumed',
  version: 1,
  owner: 'evaluation',
  description:
    'An evaluation that had stopped (failed or interrupted) is continued with the settings it was requested with: recorded items and finished matches are kept, the rest is asked again.',
  payload: z.strictObject({
    /** 1 for the first resumption, 2 for the second, … */
    resumption: z.number().int().min(1),
    /** What was already recorded and is not asked again. */
    kept: z.strictObject({ reconEvalItems: nonNegativeInt, matches: nonNegativeInt }),
    requestedBy: z.string().min(1),
    codeVersion: z.string().min(1),
  }),
});

export const externalEvents = [
  ExternalEvaluationRequested,
  ExternalEvaluationResumed,
  ExternalRequestSent,
  ExternalResponseReceived,
  ExternalResponseReceivedV2,
] as const;
