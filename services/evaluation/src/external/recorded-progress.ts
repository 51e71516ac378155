import type { PayloadOf } from '@recon/contracts';
import { payloadDifferences, type RecordedEvent } from '@recon/eventlog';
import type { GameFinishedPayload } from '@recon/games';
import type { GradedItem } from '../suite-results';

/** What an evaluation's stream already holds, so that a resumed run asks only for the rest. */
export interface RecordedProgress {
  /** 0 for a new evaluation; n for its n-th resumption. */
  resumption: number;
  /** The results of an evaluation that already completed (nothing is asked again). */
  completed?: Record<string, number>;
  scored: Map<string, GradedItem>;
  finished: Map<string, GameFinishedPayload>;
  /** The highest attempt recorded per request id. */
  attempts: Map<string, number>;
}

export const NEW_EVALUATION: RecordedProgress = {
  resumption: 0,
  scored: new Map(),
  finished: new Map(),
  attempts: new Map(),
};

/** The id names a stream that is not this evaluation: nothing is recorded, the caller picks another id. */
export class ExternalEvaluationConflictError extends Error {
  constructor(
    readonly evalId: string,
    reason: string,
  ) {
    super(`evaluation ${evalId} cannot be resumed: ${reason}`);
    this.name = 'ExternalEvaluationConflictError';
  }
}

type Requested = PayloadOf<'external.evaluation.requested'>;

/** Who asked and with which code does not change what is evaluated: everything else must be equal. */
function whatIsEvaluated(payload: Requested): Omit<Requested, 'requestedBy' | 'codeVersion'> {
  const { requestedBy: _who, codeVersion: _code, ...rest } = payload;
  return rest;
}

/**
 * Reads a stream that already has events as an evaluation to resume: it must have been requested with the
 * same settings (model, endpoint, suites, seed, sampling, datasets, limits), else an
 * ExternalEvaluationConflictError names the differences. Items already scored and matches already finished
 * are kept; the attempt numbers of every request continue where they stopped.
 */
export function recordedProgress(
  evalId: string,
  events: readonly RecordedEvent[],
  requested: Requested,
): RecordedProgress {
  const first = events[0];
  if (first.type !== 'external.evaluation.requested')
    throw new ExternalEvaluationConflictError(
      evalId,
      `it is not an external evaluation (its first event is ${first.type}); choose another --eval-id`,
    );
  const differences = payloadDifferences(
    whatIsEvaluated(first.payload as Requested),
    whatIsEvaluated(requested),
  );
  if (differences.length > 0)
    throw new ExternalEvaluationConflictError(
      evalId,
      `it was requested with other settings (${differences.join('; ')}); repeat the recorded settings to resume it, or choose another --eval-id`,
    );
  const progress: RecordedProgress = {
    resumption: 1,
    scored: new Map(),
    finished: new Map(),
    attempts: new Map(),
  };
  for (const event of events) {
    switch (event.type) {
      case 'external.evaluation.resumed':
        progress.resumption += 1;
        break;
      case 'external.request.sent': {
        const { requestId, attempt } = event.payload;
        progress.attempts.set(requestId, Math.max(attempt, progress.attempts.get(requestId) ?? 0));
        break;
      }
      case 'evaluation.item.scored': {
        const item = event.payload;
        if (item.stage !== 'external' || item.suite !== 'recon-eval') break;
        const { category, gold, correct } = item;
        const verdicts = 'verdicts' in item ? item.verdicts : undefined;
        progress.scored.set(item.itemId, { category, gold, correct, ...(verdicts ? { verdicts } : {}) });
        break;
      }
      case 'game.finished': {
        const finished = event.payload as GameFinishedPayload;
        progress.finished.set(finished.matchId, finished);
        break;
      }
      case 'evaluation.completed':
        progress.completed = event.payload.results;
        break;
    }
  }
  return progress;
}
