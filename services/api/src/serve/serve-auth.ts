import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { AuthFailureLimiter, authFailureLimitMessage } from '@recon/service-kit';
import { OpenAiError } from './openai-error';

/** The served token cannot be read; the message names its source and what is wrong. */
export class ServeTokenError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ServeTokenError';
  }
}

export const SERVE_TOKEN_ENV = 'RECON_SERVE_TOKEN';

function checkedToken(token: string, source: string): string {
  if (token === '')
    throw new ServeTokenError(`${source} is empty: put the bearer token clients must send in it`);
  if (/\s/.test(token)) throw new ServeTokenError(`${source}: the token must be one line without spaces`);
  return token;
}

/**
 * The bearer token `recon serve` requires: the content of `--token-file`, else RECON_SERVE_TOKEN, else none
 * (no token required).
 */
export function serveTokenFrom(tokenFile: string | undefined, env: NodeJS.ProcessEnv = process.env) {
  if (tokenFile !== undefined) {
    let content: string;
    try {
      content = readFileSync(tokenFile, 'utf8');
    } catch (error) {
      throw new ServeTokenError(`cannot read the token file ${tokenFile}: ${(error as Error).message}`);
    }
    return { token: checkedToken(content.trim(), `the token file ${tokenFile}`), source: tokenFile };
  }
  const fromEnv = env[SERVE_TOKEN_ENV];
  if (fromEnv !== undefined)
    return { token: checkedToken(fromEnv.trim(), SERVE_TOKEN_ENV), source: SERVE_TOKEN_ENV };
  return null;
}

const digest = (text: string) => createHash('sha256').update(text).digest();

type Next = (error?: unknown) => void;

/**
 * Express middleware, installed before the body parser: a request must carry `Authorization: Bearer
 * <token>` (compared in constant time), and a client address that sent too many wrong tokens is answered
 * 429 before its token is compared.
 */
export function requireServeToken(token: string, failures: AuthFailureLimiter) {
  const expected = digest(token);
  return (request: IncomingMessage, _response: ServerResponse, next: Next): void => {
    const address = request.socket.remoteAddress ?? 'unknown';
    const retryAfter = failures.retryAfterSeconds(address);
    if (retryAfter > 0)
      return next(
        new OpenAiError(429, authFailureLimitMessage(failures, retryAfter), null, 'rate_limit_exceeded', {
          'retry-after': String(retryAfter),
        }),
      );
    const header = request.headers.authorization;
    if (!header?.startsWith('Bearer '))
      return next(
        new OpenAiError(
          401,
          'this server requires an API key: send "Authorization: Bearer <token>" with the token recon serve was started with',
          null,
          'invalid_api_key',
        ),
      );
    if (!timingSafeEqual(digest(header.slice('Bearer '.length).trim()), expected)) {
      failures.recordFailure(address);
      return next(
        new OpenAiError(401, 'the API key is not the token this server requires', null, 'invalid_api_key'),
      );
    }
    next();
  };
}
