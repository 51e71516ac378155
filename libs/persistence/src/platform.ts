import { join, resolve } from 'node:path';
import { Pool } from 'pg';
import type { DataSource } from 'typeorm';
import {
  FileBlobStore,
  PostgresEventStore,
  type BlobStore,
  type PostgresEventStoreHooks,
} from '@recon/eventlog';
import { createDataSource, pendingMigrations } from './data-source';
import { startEmbeddedPostgres } from './embedded-postgres';
import { ProjectionRunner } from './projections';
import { retryOnConnectionLossPool } from './retrying-pool';
import { redactUrl } from './redact-url';
import { readEnvironment } from '@recon/config';
import { rootLogger } from '@recon/logging';

export { redactUrl } from './redact-url';

export interface PlatformOptions {
  /** A PostgreSQL URL; without one (and without DATABASE_URL) an embedded server is started. */
  databaseUrl?: string;
  /** Where embedded data and blobs live; RECON_HOME or ./.recon by default. */
  home?: string;
  /** 'auto' applies pending migrations; 'check' refuses to run against an unmigrated database. */
  migrations?: 'auto' | 'check';
  /** Blob directory; RECON_BLOB_DIR or <home>/blobs by default. */
  blobDir?: string;
  eventStoreHooks?: PostgresEventStoreHooks;
}

export interface Platform {
  databaseUrl: string;
  embedded: boolean;
  home: string;
  dataSource: DataSource;
  pool: Pool;
  eventStore: PostgresEventStore;
  blobStore: BlobStore;
  projections: ProjectionRunner;
  close(): Promise<void>;
}

/** The database named by DATABASE_URL (or the embedded one) cannot be reached or opened. */
export class DatabaseUnavailableError extends Error {
  constructor(url: string, reason: string) {
    super(`cannot connect to PostgreSQL at ${redactUrl(url)}: ${reason}`);
    this.name = 'DatabaseUnavailableError';
  }
}

export class PendingMigrationsError extends Error {
  constructor(readonly pending: string[]) {
    super(
      `the database has ${pending.length} pending migration(s) (${pending.join(', ')}): run \`recon migrate\``,
    );
    this.name = 'PendingMigrationsError';
  }
}

export function reconHome(home?: string): string {
  return resolve(home ?? readEnvironment('RECON_HOME') ?? '.recon');
}

/** Any key fixed for the migrations' advisory lock (its bytes spell "recon mi"). */
const MIGRATION_LOCK = '8243104023211699561';

/**
 * Applies pending migrations while holding a session advisory lock, so that processes opening the same
 * fresh database at once take turns: the later ones find nothing pending.
 */
async function migrateExclusively(dataSource: DataSource): Promise<void> {
  const runner = dataSource.createQueryRunner();
  await runner.connect();
  try {
    await runner.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    try {
      if ((await pendingMigrations(dataSource)).length > 0)
        await dataSource.runMigrations({ transaction: 'each' });
    } finally {
      await runner.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]);
    }
  } finally {
    await runner.release();
  }
}

/**
 * Opens the platform's storage: the event log, the blob store and the read models. Embedded mode (no URL)
 * starts PostgreSQL from the embedded-postgres package and migrates automatically; with a URL, migrations
 * run only through `recon migrate` unless `migrations: 'auto'` is asked for.
 */
export async function openPlatform(options: PlatformOptions = {}): Promise<Platform> {
  const home = reconHome(options.home);
  const configuredUrl = options.databaseUrl ?? readEnvironment('DATABASE_URL');
  const embedded = configuredUrl ? null : await startEmbeddedPostgres(home);
  const databaseUrl = configuredUrl ?? (embedded as { url: string }).url;
  const dataSource = createDataSource(databaseUrl);
  try {
    await dataSource.initialize();
  } catch (error) {
    await embedded?.stop();
    throw new DatabaseUnavailableError(databaseUrl, (error as Error).message);
  }
  const mode = options.migrations ?? (embedded ? 'auto' : 'check');
  const pending = await pendingMigrations(dataSource);
  if (pending.length > 0) {
    if (mode === 'auto') await migrateExclusively(dataSource);
    else {
      await dataSource.destroy();
      await embedded?.stop();
      throw new PendingMigrationsError(pending);
    }
  }
  // A brief outage (a restart, a failover) is waited out rather than failing the operations that meet it.
  const pool = retryOnConnectionLossPool(new Pool({ connectionString: databaseUrl, max: 8 }));
  // An idle connection the server closes (restart, admin termination) must cost a reconnect, not the process.
  // Logged without any run's ids: the connection may have been opened while some event was handled.
  pool.on('error', (error) => rootLogger().warn(`idle PostgreSQL connection lost: ${error.message}`));
  const eventStore = new PostgresEventStore(pool, options.eventStoreHooks);
  const blobStore = new FileBlobStore(
    options.blobDir ?? readEnvironment('RECON_BLOB_DIR') ?? join(home, 'blobs'),
  );
  const projections = new ProjectionRunner(dataSource, eventStore);
  let closed = false;
  return {
    databaseUrl,
    embedded: embedded !== null,
    home,
    dataSource,
    pool,
    eventStore,
    blobStore,
    projections,
    close: async () => {
      if (closed) return;
      closed = true;
      await pool.end();
      await dataSource.destroy();
      await embedded?.stop();
    },
  };
}
