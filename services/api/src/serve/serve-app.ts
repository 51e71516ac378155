import type { Server } from 'node:http';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { AuthFailureLimiter, authFailuresPerMinuteFromEnv } from '@recon/service-kit';
import { answerClientError } from '../http/client-error';
import { bodyParserError, OpenAiError } from './openai-error';
import { requireServeToken } from './serve-auth';
import { ServeModule, type ServedPolicy } from './serve.module';

export interface ServeAppOptions {
  /** The bearer token every request must carry; none: no token is required. */
  token?: string;
  /** Wrong tokens per minute per client address before 429 (default: RECON_AUTH_FAILURES_PER_MINUTE or 30). */
  authFailuresPerMinute?: number;
  /** The largest request body (default 16mb). */
  bodyLimit?: string;
  logger?: false;
}

/**
 * The HTTP application of `recon serve`, in this order: the token check (when a token is set), then the
 * JSON body parser, then the routes. Every error, Node's HTTP parser refusals included, is in OpenAI's shape.
 */
export async function createServeApp(
  served: ServedPolicy,
  options: ServeAppOptions = {},
): Promise<NestExpressApplication> {
  const app = await NestFactory.create<NestExpressApplication>(ServeModule.forRoot(served), {
    logger: options.logger ?? ['error', 'warn'],
    bodyParser: false,
  });
  if (options.token !== undefined) {
    const failures = new AuthFailureLimiter(options.authFailuresPerMinute ?? authFailuresPerMinuteFromEnv());
    app.use(requireServeToken(options.token, failures));
  }
  const limit = options.bodyLimit ?? '16mb';
  app.useBodyParser('json', { limit });
  app.use((error: unknown, _request: unknown, _response: unknown, next: (error: unknown) => void) =>
    next(bodyParserError(error, limit)),
  );
  (app.getHttpServer() as Server).on('clientError', (error: NodeJS.ErrnoException, socket) =>
    answerClientError(error, socket, (status, _reason, message) => new OpenAiError(status, message).toJSON()),
  );
  return app;
}
