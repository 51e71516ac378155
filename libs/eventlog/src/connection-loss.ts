import pRetry from 'p-retry';
import { logger } from '@recon/logging';

/** Socket errors of a server that is down, restarting or unreachable. */
const SOCKET_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
]);
/** SQLSTATEs of a lost or refused session: class 08, and the server shutting down or starting up. */
const SQLSTATE = /^(08...|57P01|57P02|57P03)$/;
/** What node-postgres says when the server closes the socket under it. */
const MESSAGES = [
  'Connection terminated',
  'connection error and is not queryable',
  'terminating connection due to administrator command',
  'the database system is shutting down',
  'the database system is starting up',
];

/**
 * Whether an error means the PostgreSQL server was unreachable or dropped the session (a restart, a
 * failover, a brief outage), rather than anything about the statement: such an operation may be retried.
 */
export function isConnectionLoss(error: unknown): boolean {
  // Duck-typed, not instanceof: socket errors may come from another realm (node core under jest).
  for (let e = asError(error), depth = 0; e && depth < 5; e = asError(e.cause), depth++) {
    const code = e.code;
    if (typeof code === 'string' && (SOCKET_CODES.has(code) || SQLSTATE.test(code))) return true;
    const message = typeof e.message === 'string' ? e.message : '';
    if (MESSAGES.some((m) => message.includes(m))) return true;
    // AggregateError: connecting to every address of a host failed (127.0.0.1 and ::1).
    if (Array.isArray(e.errors) && e.errors.some((inner) => isConnectionLoss(inner))) return true;
  }
  return false;
}

interface ErrorLike {
  code?: unknown;
  message?: unknown;
  cause?: unknown;
  errors?: unknown;
}

function asError(value: unknown): ErrorLike | null {
  return typeof value === 'object' && value !== null && 'message' in value ? (value as ErrorLike) : null;
}

function messageOf(error: unknown): string {
  return String(asError(error)?.message ?? error);
}

export interface ConnectionRetryOptions {
  /** How long an operation keeps retrying before it fails with the last error (default 60 s). */
  maxRetryMs?: number;
  /** Where retries and recoveries are reported (default: a warning of the logger in scope). */
  log?: (line: string) => void;
  /** Whether this failure may be retried (default: isConnectionLoss). */
  retryable?: (error: unknown) => boolean;
}

/** RECON_PG_RETRY_SECONDS: how long database operations retry through an outage (default 60; 0: never). */
export function connectionRetryMsFromEnv(): number {
  const seconds = Number(process.env.RECON_PG_RETRY_SECONDS ?? 60);
  return Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : 60_000;
}

/**
 * Runs a database operation, retrying it with back-off (p-retry: 250 ms doubling to 2 s) while PostgreSQL
 * is unreachable, for up to maxRetryMs; any other error, or the last one after that, is thrown. The first
 * failure and the recovery are logged, so an outage shows as two lines per waiting operation, not as a
 * stream of errors.
 */
export async function retryOnConnectionLoss<T>(
  what: string,
  operation: () => Promise<T>,
  options: ConnectionRetryOptions = {},
): Promise<T> {
  const maxRetryMs = options.maxRetryMs ?? connectionRetryMsFromEnv();
  const retryable = options.retryable ?? isConnectionLoss;
  const log = options.log ?? ((line: string) => logger().warn(line));
  const started = Date.now();
  let failures = 0;
  // p-retry sees errors of its own making; the operation's own error is what the caller gets.
  let last: { error: unknown } | null = null;
  const attempt = async () => {
    try {
      return await operation();
    } catch (error) {
      last = { error };
      if (!retryable(error) || Date.now() - started >= maxRetryMs)
        throw new pRetry.AbortError(messageOf(error));
      throw new Error(messageOf(error));
    }
  };
  const result = await pRetry(attempt, {
    forever: true,
    minTimeout: 250,
    maxTimeout: 2000,
    factor: 2,
    onFailedAttempt: (error) => {
      failures += 1;
      if (failures === 1 || failures % 10 === 0)
        log(
          `PostgreSQL unreachable during ${what} (${error.message}); retrying for up to ${Math.round(maxRetryMs / 1000)} s (attempt ${failures})`,
        );
    },
  }).catch((error: unknown) => {
    throw last ? last.error : error;
  });
  if (failures > 0)
    log(
      `PostgreSQL reachable again: ${what} succeeded after ${failures} failed attempt(s) in ${((Date.now() - started) / 1000).toFixed(1)} s`,
    );
  return result;
}
