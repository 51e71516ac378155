import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort } from './prometheus';

const EMBEDDED_DB = resolve(__dirname, '../../dist/scripts/embedded-db.js');

/**
 * A PostgreSQL server of a test's own: the embedded server of the platform (scripts/embedded-db.ts, run from
 * dist/, so `npm run build` first) on a free port, which the test may stop (a fast shutdown: every session
 * is terminated) and start again on the same data. Never the machine's server on 5432.
 */
export interface OwnPostgres {
  url: string;
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Stops it and deletes its data. */
  destroy(): Promise<void>;
}

export async function startOwnPostgres(): Promise<OwnPostgres> {
  const home = mkdtempSync(join(tmpdir(), 'recon-own-pg-'));
  // As root the server runs as the postgres user, which must reach its data directory.
  chmodSync(home, 0o755);
  const port = await freePort();
  const urlFile = join(home, 'url');
  let child: ChildProcess | null = null;
  const start = async () => {
    if (child) return;
    rmSync(urlFile, { force: true });
    let output = '';
    const started = spawn(process.execPath, [EMBEDDED_DB, '--home', home, '--url-file', urlFile], {
      env: { ...process.env, RECON_PG_PORT: String(port) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    started.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    started.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    await new Promise<void>((ready, fail) => {
      const poll = setInterval(() => {
        if (existsSync(urlFile)) done(null);
      }, 100);
      const exited = (code: number | null) => done(new Error(`embedded-db exited (${code}): ${output}`));
      started.once('exit', exited);
      function done(error: Error | null) {
        clearInterval(poll);
        started.off('exit', exited);
        if (error) fail(error);
        else ready();
      }
    });
    child = started;
  };
  const stop = async () => {
    const running = child;
    child = null;
    if (!running || running.exitCode !== null) return;
    await new Promise((r) => {
      running.once('exit', r);
      running.kill('SIGTERM');
    });
  };
  await start();
  return {
    url: readFileSync(urlFile, 'utf8').trim(),
    stop,
    start,
    destroy: async () => {
      await stop();
      rmSync(home, { recursive: true, force: true });
    },
  };
}
