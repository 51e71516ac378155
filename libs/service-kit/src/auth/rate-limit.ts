import { ThrottlerModule, type ThrottlerLimitDetail } from '@nestjs/throttler';
import type { ExecutionContext } from '@nestjs/common';
import type { AuthenticatedRequest } from './guard';
import { readEnvironment } from '@recon/config';

export const DEFAULT_REQUESTS_PER_MINUTE = 600;

export function requestsPerMinuteFromEnv(): number {
  return readEnvironment('RECON_RATE_LIMIT_PER_MINUTE') ?? DEFAULT_REQUESTS_PER_MINUTE;
}

/**
 * Requests per minute per API token (@nestjs/throttler, tracked by token id; the bearer guard runs first).
 * A refused request gets HTTP 429 with the limit named and a Retry-After header.
 */
export function rateLimitModule(requestsPerMinute: number) {
  return ThrottlerModule.forRoot({
    throttlers: [{ name: 'default', ttl: 60_000, limit: requestsPerMinute }],
    getTracker: (request: Record<string, unknown>) =>
      (request as unknown as AuthenticatedRequest).identity?.tokenId ?? String(request.ip ?? 'anonymous'),
    // One budget per token over all routes: the default key also holds the controller and handler names, which
    // gave a token `requestsPerMinute` on every route.
    generateKey: (_context: ExecutionContext, tracker: string, throttlerName: string) =>
      `${throttlerName}:${tracker}`,
    errorMessage: (_context: ExecutionContext, detail: ThrottlerLimitDetail) =>
      `rate limit exceeded: at most ${detail.limit} requests per ${detail.ttl / 1000} s per API token; retry in ${Math.max(
        1,
        Math.ceil(detail.timeToExpire),
      )} s`,
  });
}
