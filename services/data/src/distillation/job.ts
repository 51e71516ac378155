import pLimit from 'p-limit';
import pRetry from 'p-retry';
import type { PayloadOf } from '@recon/contracts';
import { deterministicEventId, payloadDifferences, type NewEvent } from '@recon/eventlog';
import { strictGrade, type ProblemRow } from '@recon/econ';
import { loadDataset } from '../load-dataset';
import { dataProducer } from '../producer';
import type { DataStores } from '../stores';
import { checkJobSettings, type DistillationRequest } from './job-settings';
import { jobCounts, jobState, distillationStreamId, type ItemState, type JobCounts } from './job-state';
import {
  askTeacher,
  chatCompletionsUrl,
  traceTextOf,
  type ChatRequest,
  type TeacherOutcome,
} from './teacher-client';

export interface DistillationOptions {
  jobId: string;
  /** A registered problem dataset (train split) whose prompts are sent. */
  datasetVersion: string;
  /** The teacher's base URL: `POST {baseUrl}/v1/chat/completions`. */
  baseUrl: string;
  model: string;
  apiKey?: string;
  concurrency?: number;
  /** Retries after the first attempt, for timeouts, network errors, 408/429/5xx and malformed bodies. */
  retries?: number;
  timeoutMs?: number;
  /** First backoff delay; doubles each retry (p-retry, with jitter). */
  minBackoffMs?: number;
  temperature?: number;
  maxTokens?: number;
  /** Only the first N rows (a trial run). */
  limit?: number;
  /** Re-ask items a previous run gave up on (`teacher-failed`). Default true. */
  retryFailed?: boolean;
  signal?: AbortSignal;
  /** Who runs the job and with which code, recorded in its first event. */
  requestedBy: string;
  codeVersion: string;
}

export interface DistillationSummary {
  items: number;
  accepted: number;
  rejected: { wrongAnswer: number; noAnswer: number; teacherFailed: number };
  /** Items a previous run had already finished. */
  alreadyDone: number;
  /** Items finished from a response a previous run recorded, without asking again. */
  recoveredFromLog: number;
  requests: number;
  /** The whole job after this run, each item counted once by its last verdict (earlier runs included). */
  job: JobCounts;
}

/** A failure of the teacher (not of our stores): retried, and in the end recorded as `teacher-failed`. */
class TeacherError extends Error {}

/**
 * Sends each prompt of a dataset version to an OpenAI-compatible teacher and keeps the traces whose final
 * answer grades correct (strict grader: the last `\boxed{}` after `</think>`) against the row's own gold.
 * Every request, response, acceptance and rejection is an event on `distillation-<jobId>`, with bodies and
 * traces in the blob store. The state is read back from those events at start, so a run after a crash asks
 * nothing that was already answered: finished items are skipped and a recorded response is graded as is.
 *
 * The job's first event, `distillation.requested`, records its settings; a later run of the same job id with
 * another teacher, model, sampling, source dataset or limit throws a DistillationSettingsConflictError before
 * anything is asked. A run that goes through every item ends with `distillation.completed` (the job's totals).
 */
export async function runDistillation(
  options: DistillationOptions,
  stores: DataStores,
): Promise<DistillationSummary> {
  const dataset = await loadDataset(stores, options.datasetVersion);
  if (dataset.kind !== 'problems')
    throw new Error(`dataset ${options.datasetVersion} holds traces, not problems with gold answers`);
  const rows = (dataset.rows as ProblemRow[]).slice(0, options.limit ?? dataset.rows.length);
  const streamId = distillationStreamId(options.jobId);
  const producer = dataProducer();
  const recorded = await stores.eventStore.readStream(streamId);
  const request = requestOf(options, dataset.registration, rows.length);
  if (checkJobSettings(recorded, request) === 'new') {
    await stores.eventStore.append(
      streamId,
      [
        {
          eventId: deterministicEventId('distillation', options.jobId, 'requested'),
          type: 'distillation.requested',
          payload: request,
        },
      ],
      { expectedVersion: 'no-stream', producer },
    );
  }
  const state = jobState(recorded);
  const url = chatCompletionsUrl(options.baseUrl);
  const summary: DistillationSummary = {
    items: rows.length,
    accepted: 0,
    rejected: { wrongAnswer: 0, noAnswer: 0, teacherFailed: 0 },
    alreadyDone: 0,
    recoveredFromLog: 0,
    requests: 0,
    job: jobCounts(state, rows.length),
  };
  const item = { jobId: options.jobId, datasetVersion: options.datasetVersion };

  const record = (event: NewEvent) =>
    stores.eventStore.append(streamId, [event], { expectedVersion: 'any', producer });
  const id = (...parts: Array<string | number>) =>
    deterministicEventId('distillation', options.jobId, ...parts);

  const finish = async (row: ProblemRow, attempt: number, text: string): Promise<void> => {
    const traceBlobHash = await stores.blobStore.put(text);
    const grade = strictGrade(text, row.gold);
    const base = { ...item, rowIndex: row.index, traceBlobHash };
    if (grade.correct) {
      const payload: PayloadOf<'trace.accepted'> = { ...base, answer: grade.parsed ?? '' };
      await record({ eventId: id(row.index, 'terminal', attempt), type: 'trace.accepted', payload });
      summary.accepted += 1;
      return;
    }
    const reason = grade.parsed === null ? 'no-answer' : 'wrong-answer';
    const payload: PayloadOf<'trace.rejected'> = { ...base, reason, answer: grade.parsed };
    await record({ eventId: id(row.index, 'terminal', attempt), type: 'trace.rejected', payload });
    if (reason === 'no-answer') summary.rejected.noAnswer += 1;
    else summary.rejected.wrongAnswer += 1;
  };

  const ask = async (row: ProblemRow, previous: ItemState | undefined): Promise<void> => {
    let attempt = previous?.attempts ?? 0;
    const request: ChatRequest = {
      model: options.model,
      messages: row.messages,
      ...(options.temperature !== undefined ? { temperature: options.temperature } : {}),
      ...(options.maxTokens !== undefined ? { max_tokens: options.maxTokens } : {}),
    };
    const requestBlobHash = await stores.blobStore.put(JSON.stringify(request));
    let last: TeacherOutcome | undefined;
    try {
      const text = await pRetry(
        async () => {
          attempt += 1;
          await record({
            eventId: id(row.index, attempt, 'request'),
            type: 'teacher.request.sent',
            payload: {
              ...item,
              rowIndex: row.index,
              attempt,
              endpoint: url,
              model: options.model,
              requestBlobHash,
            },
          });
          summary.requests += 1;
          const started = performance.now();
          last = await askTeacher(url, request, {
            timeoutMs: options.timeoutMs ?? 120_000,
            apiKey: options.apiKey,
            signal: options.signal,
          });
          const responseBlobHash = 'body' in last ? await stores.blobStore.put(last.body) : undefined;
          const payload: PayloadOf<'teacher.response.received'> = {
            ...item,
            rowIndex: row.index,
            attempt,
            outcome: last.outcome,
            latencyMs: Math.round(performance.now() - started),
            ...('httpStatus' in last ? { httpStatus: last.httpStatus } : {}),
            ...(responseBlobHash ? { responseBlobHash } : {}),
            ...('error' in last ? { error: last.error.slice(0, 2000) } : {}),
          };
          await record({
            eventId: id(row.index, attempt, 'response'),
            type: 'teacher.response.received',
            payload,
          });
          if (last.outcome === 'ok') return last.text;
          if (options.signal?.aborted) throw new pRetry.AbortError('distillation aborted');
          if (last.outcome === 'http-error' && !last.retryable)
            throw new pRetry.AbortError(new TeacherError(last.error)); // p-retry rejects with the inner error
          throw new TeacherError(last.error);
        },
        {
          retries: options.retries ?? 3,
          minTimeout: options.minBackoffMs ?? 500,
          factor: 2,
          randomize: true,
        },
      );
      await finish(row, attempt, text);
    } catch (error) {
      if (options.signal?.aborted) throw error;
      // An error of the event store or blob store is not the teacher's failure: let it end the run.
      if (!(error instanceof TeacherError)) throw error;
      const payload: PayloadOf<'trace.rejected'> = {
        ...item,
        rowIndex: row.index,
        reason: 'teacher-failed',
        answer: null,
        detail:
          `after ${attempt} attempt(s): ${last && 'error' in last ? last.error : (error as Error).message}`.slice(
            0,
            2000,
          ),
      };
      await record({ eventId: id(row.index, 'terminal', attempt), type: 'trace.rejected', payload });
      summary.rejected.teacherFailed += 1;
    }
  };

  // The first error that is not the teacher's (the event log or blob store failing) stops the run: no new
  // item starts, the ones in flight finish, then the error is thrown.
  let fatal: { error: unknown } | undefined;
  const limit = pLimit(options.concurrency ?? 4);
  await Promise.all(
    rows.map((row) =>
      limit(async () => {
        if (fatal || options.signal?.aborted) return;
        try {
          const previous = state.get(row.index);
          const done =
            previous?.terminal && !(previous.terminal === 'teacher-failed' && (options.retryFailed ?? true));
          if (done) {
            summary.alreadyDone += 1;
            return;
          }
          if (previous?.okResponseBlob && !previous.terminal) {
            // Answered before a crash, not yet graded: grade the recorded response instead of asking again.
            const body = JSON.parse(
              (await stores.blobStore.get(previous.okResponseBlob)).toString('utf8'),
            ) as unknown;
            summary.recoveredFromLog += 1;
            await finish(row, previous.attempts, traceTextOf(body) ?? '');
            return;
          }
          await ask(row, previous);
        } catch (error) {
          fatal ??= { error };
        }
      }),
    ),
  );
  if (fatal) throw fatal.error;
  // An interrupted run has not gone through every item: its totals are not the job's.
  if (!options.signal?.aborted) summary.job = await recordCompletion(stores, options.jobId, rows.length);
  return summary;
}

function requestOf(
  options: DistillationOptions,
  source: { name: string; versionHash: string; rowCount: number },
  items: number,
): DistillationRequest {
  return {
    jobId: options.jobId,
    teacher: { baseUrl: options.baseUrl, model: options.model },
    sampling: {
      ...(options.temperature !== undefined ? { temperature: options.temperature } : {}),
      ...(options.maxTokens !== undefined ? { maxTokens: options.maxTokens } : {}),
    },
    source: { name: source.name, versionHash: source.versionHash, rowCount: source.rowCount },
    limit: options.limit ?? null,
    items,
    settings: {
      concurrency: options.concurrency ?? 4,
      retries: options.retries ?? 3,
      timeoutMs: options.timeoutMs ?? 120_000,
      minBackoffMs: options.minBackoffMs ?? 500,
    },
    requestedBy: options.requestedBy,
    codeVersion: options.codeVersion,
  };
}

/**
 * Records the job's totals after a run that went through every item, unless its last recorded totals are
 * the same (a run that found everything done adds nothing).
 */
async function recordCompletion(stores: DataStores, jobId: string, items: number): Promise<JobCounts> {
  const streamId = distillationStreamId(jobId);
  const events = await stores.eventStore.readStream(streamId);
  const counts = jobCounts(jobState(events), items);
  const payload: PayloadOf<'distillation.completed'> = { jobId, ...counts };
  const last = [...events].reverse().find((e) => e.type === 'distillation.completed');
  if (last && payloadDifferences(last.payload, payload).length === 0) return counts;
  await stores.eventStore.append(
    streamId,
    [
      {
        eventId: deterministicEventId('distillation', jobId, 'completed', events.length),
        type: 'distillation.completed',
        payload,
      },
    ],
    { expectedVersion: 'any', producer: dataProducer() },
  );
  return counts;
}
