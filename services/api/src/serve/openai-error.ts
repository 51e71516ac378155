import type { ServerResponse } from 'node:http';
import { Catch, HttpException, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';

/** OpenAI's error body: what its clients read the message, type, parameter and code from. */
export interface OpenAiErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

/** A refused request, answered in OpenAI's error shape with `status` (and any extra headers, e.g. Retry-After). */
export class OpenAiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly param: string | null = null,
    readonly code: string | null = null,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'OpenAiError';
  }

  get type(): string {
    if (this.status === 429) return 'rate_limit_error';
    return this.status >= 500 ? 'server_error' : 'invalid_request_error';
  }

  toJSON(): OpenAiErrorBody {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }
}

/** Nest's own exceptions (e.g. an unknown route) as OpenAI errors. */
function fromHttpException(exception: HttpException): OpenAiError {
  const response = exception.getResponse();
  const raw =
    typeof response === 'string'
      ? response
      : ((response as { message?: unknown }).message ?? exception.message);
  return new OpenAiError(exception.getStatus(), Array.isArray(raw) ? raw.join('; ') : String(raw));
}

/** An error of express or body-parser (http-errors) that may be shown to the client: its status and message. */
function exposedClientError(exception: unknown): { status: number; message: string } | null {
  const error = exception as { expose?: unknown; status?: unknown; message?: unknown } | null;
  if (error?.expose !== true || typeof error.status !== 'number' || error.status < 400 || error.status >= 500)
    return null;
  return { status: error.status, message: String(error.message) };
}

export function asOpenAiError(exception: unknown): OpenAiError {
  if (exception instanceof OpenAiError) return exception;
  if (exception instanceof HttpException) return fromHttpException(exception);
  const exposed = exposedClientError(exception);
  if (exposed) return new OpenAiError(exposed.status, exposed.message);
  return new OpenAiError(500, `the server failed: ${(exception as Error)?.message ?? String(exception)}`);
}

/** What body-parser's refusals mean, as OpenAI errors (`limit`: the body size limit, e.g. '16mb'). */
export function bodyParserError(exception: unknown, limit: string): unknown {
  switch ((exception as { type?: unknown } | null)?.type) {
    case 'entity.parse.failed':
      return new OpenAiError(400, `the request body is not valid JSON: ${(exception as Error).message}`);
    case 'entity.too.large':
      return new OpenAiError(413, `the request body is larger than the server's limit of ${limit}`);
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new OpenAiError(415, (exception as Error).message);
    default:
      return exception;
  }
}

/**
 * Every error of `recon serve` in OpenAI's shape, including Nest's own (unknown routes, unparsable bodies).
 * An error after a stream began is sent as a final `data: {"error": …}` event, as OpenAI's clients expect.
 */
@Catch()
export class OpenAiErrorFilter implements ExceptionFilter {
  catch(exception: unknown, host: ArgumentsHost): void {
    const response = host.switchToHttp().getResponse<ServerResponse>();
    const error = asOpenAiError(exception);
    if (response.headersSent) {
      if (!response.writableEnded) response.end(`data: ${JSON.stringify(error)}\n\n`);
      return;
    }
    response.writeHead(error.status, {
      'content-type': 'application/json; charset=utf-8',
      ...error.headers,
    });
    response.end(JSON.stringify(error));
  }
}
