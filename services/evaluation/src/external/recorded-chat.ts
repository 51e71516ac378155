import pLimit from 'p-limit';
import pRetry from 'p-retry';
import type { ExternalSuite, PayloadOf } from '@recon/contracts';
import { storableText } from '@recon/contracts';
import type { ChatMessage } from '@recon/econ';
import { deterministicEventId, type BlobStore, type EventStore, type NewEvent } from '@recon/eventlog';
import { chatCompletionsUrl, postChatCompletion, usageOf, type ChatRequest } from '@recon/openai-chat';
import { evaluationProducer } from '../evaluation.worker';

export interface ExternalModel {
  /** The server's base URL, e.g. `http://127.0.0.1:8000/v1`. */
  baseUrl: string;
  model: string;
  apiKey?: string;
  /** Requests in flight at most. */
  concurrency: number;
  /** Retries after the first attempt, for timeouts, network errors, 408/429/5xx and malformed bodies. */
  retries: number;
  timeoutMs: number;
  /** First backoff delay; doubles each retry (p-retry, with jitter). */
  minBackoffMs: number;
}

export interface Sampling {
  temperature: number;
  maxTokens: number;
  topP?: number;
  seed?: number;
  stop?: string[];
}

/** The external model kept failing one request: the evaluation cannot score it and stops. */
export class ExternalModelError extends Error {
  constructor(
    readonly requestId: string,
    readonly attempts: number,
    readonly endpoint: string,
    cause: string,
  ) {
    super(`${endpoint} failed request ${requestId} after ${attempts} attempt(s): ${cause}`);
    this.name = 'ExternalModelError';
  }
}

/**
 * An OpenAI-compatible model whose every call is recorded on the evaluation's stream, in the style of
 * distillation's teacher calls: `external.request.sent` (the body a blob) before each attempt,
 * `external.response.received` (outcome, status, latency, usage, the body a blob) after it. At most
 * `concurrency` calls are in flight; failures are retried with exponential backoff; a request that still
 * fails, or that the server refuses (4xx), throws an ExternalModelError.
 */
export class RecordedChatModel {
  readonly endpoint: string;
  readonly modelName: string;
  private readonly limit: ReturnType<typeof pLimit>;

  constructor(
    private readonly stores: { eventStore: EventStore; blobStore: BlobStore },
    private readonly streamId: string,
    private readonly model: ExternalModel,
    private readonly signal?: AbortSignal,
    /** Attempts a stopped run of this evaluation already recorded per request id: numbering continues. */
    private readonly priorAttempts: ReadonlyMap<string, number> = new Map(),
  ) {
    this.endpoint = chatCompletionsUrl(model.baseUrl);
    this.modelName = model.model;
    this.limit = pLimit(model.concurrency);
  }

  complete(
    requestId: string,
    suite: ExternalSuite,
    messages: ChatMessage[],
    sampling: Sampling,
  ): Promise<string> {
    return this.limit(() => {
      // Once the evaluation has stopped (a request kept failing, or Ctrl-C), queued requests are not sent.
      if (this.signal?.aborted) throw new Error(`request ${requestId} not sent: the evaluation stopped`);
      return this.ask(requestId, suite, messages, sampling);
    });
  }

  private record(event: NewEvent) {
    return this.stores.eventStore.append(this.streamId, [event], {
      expectedVersion: 'any',
      producer: evaluationProducer(),
    });
  }

  private async ask(
    requestId: string,
    suite: ExternalSuite,
    messages: ChatMessage[],
    sampling: Sampling,
  ): Promise<string> {
    const request: ChatRequest = {
      model: this.model.model,
      messages,
      temperature: sampling.temperature,
      max_tokens: sampling.maxTokens,
      ...(sampling.topP !== undefined ? { top_p: sampling.topP } : {}),
      ...(sampling.seed !== undefined ? { seed: sampling.seed } : {}),
      ...(sampling.stop?.length ? { stop: sampling.stop } : {}),
    };
    const requestBlobHash = await this.stores.blobStore.put(JSON.stringify(request));
    const id = (...parts: Array<string | number>) =>
      deterministicEventId(this.streamId, 'external', requestId, ...parts);
    const prior = this.priorAttempts.get(requestId) ?? 0;
    let attempt = prior;
    return pRetry(
      async () => {
        attempt += 1;
        const call = { requestId, suite, attempt };
        await this.record({
          eventId: id(attempt, 'request'),
          type: 'external.request.sent',
          payload: { ...call, endpoint: this.endpoint, model: this.model.model, requestBlobHash },
        });
        const started = performance.now();
        const last = await postChatCompletion(this.endpoint, request, {
          timeoutMs: this.model.timeoutMs,
          apiKey: this.model.apiKey,
          signal: this.signal,
        });
        const responseBlobHash = 'body' in last ? await this.stores.blobStore.put(last.body) : undefined;
        const usage = last.outcome === 'ok' ? usageOf(safeJson(last.body)) : null;
        const payload: PayloadOf<'external.response.received'> = {
          ...call,
          outcome: last.outcome,
          latencyMs: Math.round(performance.now() - started),
          ...('httpStatus' in last ? { httpStatus: last.httpStatus } : {}),
          ...(responseBlobHash ? { responseBlobHash } : {}),
          ...(usage ? { usage } : {}),
          ...('error' in last ? { error: last.error.slice(0, 2000) } : {}),
        };
        await this.record({ eventId: id(attempt, 'response'), type: 'external.response.received', payload });
        if (last.outcome === 'ok') return storableText(last.text);
        if (this.signal?.aborted) throw new pRetry.AbortError('evaluation aborted');
        const failure = new ExternalModelError(requestId, attempt - prior, this.endpoint, last.error);
        if (last.outcome === 'http-error' && !last.retryable) throw new pRetry.AbortError(failure);
        throw failure;
      },
      { retries: this.model.retries, minTimeout: this.model.minBackoffMs, factor: 2, randomize: true },
    );
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}
