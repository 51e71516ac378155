import type { ChatMessage } from '@recon/econ';

/**
 * The client of an OpenAI-compatible chat server (vLLM, llama.cpp server, Ollama, SGLang, OpenAI): the URL of
 * `/v1/chat/completions` from a base URL, one call with a hard timeout whose every failure is an outcome, and
 * the text of a completion. Retries, concurrency and recording are the caller's (distillation, external eval).
 */

/** The body of an OpenAI-compatible `POST {base}/v1/chat/completions`. */
export interface ChatRequest {
  model: string;
  messages: ChatMessage[];
  temperature?: number;
  top_p?: number;
  max_tokens?: number;
  seed?: number;
  stop?: string[];
}

/** The outcome of one call; never an exception. */
export type ChatOutcome =
  | { outcome: 'ok'; httpStatus: number; body: string; text: string }
  | { outcome: 'http-error'; httpStatus: number; body: string; retryable: boolean; error: string }
  | { outcome: 'invalid-response'; httpStatus: number; body: string; error: string }
  | { outcome: 'timeout' | 'network-error' | 'cancelled'; error: string };

export function chatCompletionsUrl(baseUrl: string): string {
  return `${baseUrl.replace(/\/+$/, '').replace(/\/v1$/, '')}/v1/chat/completions`;
}

/** The token counts a server reports (`usage`), when it reports them. */
export function usageOf(body: unknown): { promptTokens: number; completionTokens: number } | null {
  const usage = (body as { usage?: { prompt_tokens?: unknown; completion_tokens?: unknown } } | null)?.usage;
  const prompt = usage?.prompt_tokens;
  const completion = usage?.completion_tokens;
  if (!Number.isInteger(prompt) || !Number.isInteger(completion)) return null;
  return { promptTokens: prompt as number, completionTokens: completion as number };
}

/**
 * The trace text of a chat completion. Reasoning servers (DeepSeek-R1 through vLLM/SGLang) may return the
 * thinking separately as `reasoning_content`; it is put back inside `<think>…</think>` before the answer.
 */
export function traceTextOf(body: unknown): string | null {
  const message = (
    body as { choices?: Array<{ message?: { content?: unknown; reasoning_content?: unknown } }> }
  )?.choices?.[0]?.message;
  if (!message || typeof message.content !== 'string') return null;
  const reasoning = message.reasoning_content;
  if (typeof reasoning === 'string' && reasoning.trim() !== '' && !message.content.includes('</think>')) {
    return `<think>${reasoning}</think>${message.content}`;
  }
  return message.content;
}

/** One HTTP call with a hard timeout; never throws, every failure is an outcome. */
export async function postChatCompletion(
  url: string,
  request: ChatRequest,
  options: { timeoutMs: number; apiKey?: string; signal?: AbortSignal },
): Promise<ChatOutcome> {
  const controller = new AbortController();
  // Which of the two stopped the call decides the outcome; the caller's reason (e.g. another request's
  // failure) is not this call's error, so it is not recorded as one.
  let stoppedBy: 'timeout' | 'caller' | undefined;
  const timer = setTimeout(() => {
    stoppedBy ??= 'timeout';
    controller.abort(new Error('timeout'));
  }, options.timeoutMs);
  const onOuterAbort = () => {
    stoppedBy ??= 'caller';
    controller.abort(new Error('cancelled'));
  };
  if (options.signal?.aborted) onOuterAbort();
  else options.signal?.addEventListener('abort', onOuterAbort, { once: true });
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {}),
      },
      body: JSON.stringify(request),
      signal: controller.signal,
    });
    const body = await response.text();
    if (!response.ok) {
      const retryable = response.status === 408 || response.status === 429 || response.status >= 500;
      return {
        outcome: 'http-error',
        httpStatus: response.status,
        body,
        retryable,
        error: `HTTP ${response.status}: ${body.slice(0, 200)}`,
      };
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch {
      return {
        outcome: 'invalid-response',
        httpStatus: response.status,
        body,
        error: 'the response body is not JSON',
      };
    }
    const text = traceTextOf(parsed);
    if (text === null)
      return {
        outcome: 'invalid-response',
        httpStatus: response.status,
        body,
        error: 'no choices[0].message.content in the response',
      };
    return { outcome: 'ok', httpStatus: response.status, body, text };
  } catch (error) {
    if (stoppedBy === 'timeout')
      return { outcome: 'timeout', error: `no response within ${options.timeoutMs} ms` };
    if (stoppedBy === 'caller')
      return { outcome: 'cancelled', error: 'cancelled by the client before a response' };
    const cause = (error as { cause?: { message?: string } }).cause?.message;
    return { outcome: 'network-error', error: `${(error as Error).message}${cause ? `: ${cause}` : ''}` };
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', onOuterAbort);
  }
}
