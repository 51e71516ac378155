import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { openPlatform, type Platform, type PlatformOptions } from './platform';
import { readEnvironment } from '@recon/config';

/** The server tests and benchmarks use: DATABASE_URL, else the machine's PostgreSQL on 127.0.0.1:5432. */
export function scratchServerUrl(): string {
  return readEnvironment('DATABASE_URL') ?? 'postgres://postgres@127.0.0.1:5432/postgres';
}

function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

async function onServer<T>(fn: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: scratchServerUrl() });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

export interface ScratchPlatform extends Platform {
  databaseName: string;
  /** The blob directory; processes started against this platform must share it (RECON_BLOB_DIR). */
  blobDir: string;
}

/** A platform on a fresh, migrated database with its own blob directory; close() drops both. */
export async function createScratchPlatform(
  options: Omit<PlatformOptions, 'databaseUrl'> = {},
): Promise<ScratchPlatform> {
  const databaseName = `recon_scratch_${randomBytes(6).toString('hex')}`;
  await onServer((client) => client.query(`CREATE DATABASE ${databaseName}`));
  const blobDir = mkdtempSync(join(tmpdir(), 'recon-blobs-'));
  const platform = await openPlatform({
    ...options,
    databaseUrl: withDatabase(scratchServerUrl(), databaseName),
    migrations: 'auto',
    blobDir,
  });
  const close = platform.close;
  return {
    ...platform,
    databaseName,
    blobDir,
    close: async () => {
      await close();
      await onServer((client) => client.query(`DROP DATABASE IF EXISTS ${databaseName} WITH (FORCE)`));
      rmSync(blobDir, { recursive: true, force: true });
    },
  };
}
