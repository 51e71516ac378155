import type { Pool } from 'pg';
import { retryOnConnectionLoss, type ConnectionRetryOptions } from '@recon/eventlog';

/**
 * Makes a pool ride out a brief PostgreSQL outage (a restart, a failover): `pool.connect()` and
 * `pool.query()` (their promise forms) are retried while the server is unreachable, for up to
 * RECON_PG_RETRY_SECONDS. A failed connect sent nothing, so retrying it is always safe; a single-statement
 * query that lost its session was rolled back unless it was committing as the server went away, and the
 * statements run through pool.query are reads or idempotent upserts (handled positions only move forward).
 * Transactions on a client from connect() are retried whole by their owner (PostgresEventStore.append).
 */
export function retryOnConnectionLossPool(pool: Pool, options: ConnectionRetryOptions = {}): Pool {
  const connect = pool.connect.bind(pool) as (...args: unknown[]) => unknown;
  const query = pool.query.bind(pool) as (...args: unknown[]) => unknown;
  const patched = pool as unknown as {
    connect: (...args: unknown[]) => unknown;
    query: (...args: unknown[]) => unknown;
  };
  patched.connect = (...args: unknown[]) =>
    // The callback form is what pool.query uses inside pg-pool; it is retried as the query.
    typeof args[0] === 'function'
      ? connect(...args)
      : retryOnConnectionLoss('connect', () => connect() as Promise<unknown>, options);
  patched.query = (...args: unknown[]) => {
    if (
      typeof args[args.length - 1] === 'function' ||
      typeof (args[0] as { submit?: unknown })?.submit === 'function'
    )
      return query(...args);
    return retryOnConnectionLoss(
      `query ${describe(args[0])}`,
      () => query(...args) as Promise<unknown>,
      options,
    );
  };
  return pool;
}

function describe(statement: unknown): string {
  const text =
    typeof statement === 'string' ? statement : String((statement as { text?: unknown })?.text ?? '');
  const compact = text.replace(/\s+/g, ' ').trim();
  return `'${compact.length > 60 ? `${compact.slice(0, 57)}...` : compact}'`;
}
