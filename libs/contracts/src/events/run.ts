import { z } from 'zod';
import { defineEvent } from '../define-event';
import { finite, jsonObject, nonNegativeInt, runId, sha256Hex } from '../common';

export const RunRequested = defineEvent({
  type: 'run.requested',
  version: 1,
  owner: 'api',
  description: 'A run was submitted with its full, validated experiment config.',
  payload: z.strictObject({
    name: z.string().min(1),
    config: jsonObject,
    configHash: sha256Hex,
    seed: nonNegativeInt,
    requestedBy: z.string().min(1),
    codeVersion: z.string().min(1),
    parent: z.strictObject({ runId, step: nonNegativeInt, changedKeys: z.array(z.string()) }).optional(),
  }),
});

export const RunCompleted = defineEvent({
  type: 'run.completed',
  version: 1,
  owner: 'api',
  description: 'Every phase of the run finished; the summary holds its headline numbers.',
  payload: z.strictObject({ summary: z.record(z.string(), finite) }),
});

export const RunFailed = defineEvent({
  type: 'run.failed',
  version: 1,
  owner: 'api',
  description: 'The run stopped on an error; the phase and message say where and why.',
  payload: z.strictObject({ phase: z.string().min(1), error: z.string().min(1) }),
});

export const RunContentDeleted = defineEvent({
  type: 'run.content.deleted',
  version: 1,
  owner: 'api',
  description:
    "Content of a run was withdrawn: the listed events' payloads are replaced by tombstones (their hashes and chain links stay), listed blobs are removed.",
  payload: z.strictObject({
    eventIds: z.array(z.uuid()).min(1),
    blobHashes: z.array(sha256Hex),
    reason: z.string().min(1).max(2000),
    actor: z.string().min(1),
  }),
});

export const RunReplayVerified = defineEvent({
  type: 'run.replay.verified',
  version: 1,
  owner: 'api',
  description:
    'The run was re-executed from its recorded config and seed (`recon replay --verify`) and every produced event compared with the recorded one; the outcome, kept on the run for its audit.',
  payload: z.strictObject({
    replayRunId: runId,
    identical: z.boolean(),
    compared: nonNegativeInt,
    codeVersion: z.string().min(1),
    requestedBy: z.string().min(1),
    firstDivergence: z
      .strictObject({
        position: nonNegativeInt,
        type: z.string().min(1),
        differences: z.array(z.string().max(500)).max(20),
      })
      .optional(),
  }),
});

export const runEvents = [
  RunRequested,
  RunCompleted,
  RunFailed,
  RunContentDeleted,
  RunReplayVerified,
] as const;
