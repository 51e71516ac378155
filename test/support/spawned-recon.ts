import { spawn, type ChildProcess } from 'node:child_process';
import type { EventStore } from '@recon/eventlog';
import { RECON_BIN } from './recon-cli';

/** A `recon` process left running: its exit code when it ends, and what it has printed so far. */
export interface SpawnedRecon {
  child: ChildProcess;
  exit: Promise<number | null>;
  stdout(): string;
}

/**
 * Starts `recon <args>` from dist/ with `env` over this process's environment, without waiting for it (to
 * kill it or act on its run meanwhile). A non-zero exit prints its stderr, so a failure shows in the test log.
 */
export function spawnRecon(args: string[], env: Record<string, string | undefined>): SpawnedRecon {
  const child = spawn(process.execPath, [RECON_BIN, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk) => (stdout += chunk));
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  const exit = new Promise<number | null>((done) =>
    child.on('exit', (code) => {
      if (code !== 0 && code !== null) process.stderr.write(`recon ${args[0]} exited ${code}: ${stderr}\n`);
      done(code);
    }),
  );
  return { child, exit, stdout: () => stdout };
}

/**
 * Waits until the run has recorded `count` events of `type`; fails if the process running it ends first
 * (the run finished before the test could act on it).
 */
export async function waitForEvents(
  eventStore: EventStore,
  runId: string,
  type: string,
  count: number,
  running: SpawnedRecon,
): Promise<void> {
  for (;;) {
    const events = await eventStore.readStream(runId, { types: [type] });
    if (events.length >= count) return;
    if (running.child.exitCode !== null)
      throw new Error(`the run ended before its ${count} ${type}: ${running.stdout()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
