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

export const ExternalResponseReceived = defineEvent({
  type: 'external.response.received',
  version: 1,
  owner: 'evaluation',
  description:
    'The outcome of one external-model request: the response body (a blob) when the HTTP call returned, else the failure (timeout, network, HTTP status).',
  payload: z.strictObject({
    ...externalCall,
    outcome: z.enum(['ok', 'http-error', 'timeout', 'network-error', 'invalid-response']),
    httpStatus: z.number().int().min(100).max(599).optional(),
    responseBlobHash: sha256Hex.optional(),
    latencyMs: z.number().finite().nonnegative(),
    usage: z.strictObject({ promptTokens: nonNegativeInt, completionTokens: nonNegativeInt }).optional(),
    error: z.string().max(2000).optional(),
  }),
});

export const externalEvents = [
  ExternalEvaluationRequested,
  ExternalRequestSent,
  ExternalResponseReceived,
] as const;
