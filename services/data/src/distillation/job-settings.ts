import type { PayloadOf } from '@recon/contracts';
import { payloadDifferences, type RecordedEvent } from '@recon/eventlog';
import { chatCompletionsUrl } from './teacher-client';

export type DistillationRequest = PayloadOf<'distillation.requested'>;

/** A job id reused for another distillation: nothing is asked or recorded; the message names the differences. */
export class DistillationSettingsConflictError extends Error {
  constructor(
    readonly jobId: string,
    readonly differences: string[],
  ) {
    super(
      `distillation job ${jobId} was recorded with other settings (${differences.join('; ')}): ` +
        'run it again with the recorded settings to resume it, or name a new job with --job',
    );
    this.name = 'DistillationSettingsConflictError';
  }
}

/**
 * What a job distils, and so what a later run of the same job id must ask again: the teacher, the sampling,
 * the source dataset version and the row limit. Who ran it, with which code and how fast may change.
 */
function whatIsDistilled(request: DistillationRequest) {
  const { teacher, sampling, source, limit, items } = request;
  return { teacher, sampling, source: { versionHash: source.versionHash }, limit, items };
}

/**
 * Checks a run of a job against what its stream recorded. A job recorded before its settings were
 * (its first event a teacher request) is checked against what its requests name: teacher, model and
 * source dataset. Throws DistillationSettingsConflictError; returns whether the stream is new.
 */
export function checkJobSettings(
  events: readonly RecordedEvent[],
  request: DistillationRequest,
): 'new' | 'resumed' {
  if (events.length === 0) return 'new';
  const first = events[0];
  if (first.type === 'distillation.requested') {
    const differences = payloadDifferences(
      whatIsDistilled(first.payload),
      whatIsDistilled(request),
    );
    if (differences.length > 0) throw new DistillationSettingsConflictError(request.jobId, differences);
    return 'resumed';
  }
  const requests = events
    .filter((e) => e.type === 'teacher.request.sent')
    .map((e) => e.payload);
  if (requests.length === 0)
    throw new DistillationSettingsConflictError(request.jobId, [
      `the stream is not a distillation job (its first event is ${first.type})`,
    ]);
  const recorded = requests[0];
  const differences = [
    ...payloadDifferences(recorded.endpoint, chatCompletionsUrl(request.teacher.baseUrl), 'teacher endpoint'),
    ...payloadDifferences(recorded.model, request.teacher.model, 'teacher.model'),
    ...payloadDifferences(recorded.datasetVersion, request.source.versionHash, 'source.versionHash'),
  ];
  if (differences.length > 0) throw new DistillationSettingsConflictError(request.jobId, differences);
  return 'resumed';
}
