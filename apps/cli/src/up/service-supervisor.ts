import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';
import pRetry from 'p-retry';

export interface ServiceSpec {
  /** Instance name, e.g. rollout-2. */
  name: string;
  /** The service it runs, e.g. rollout. */
  service: string;
  port: number;
}

export interface SupervisedService extends ServiceSpec {
  pid: number | undefined;
  restarts: number;
}

export interface SupervisorOptions {
  bin: string;
  host: string;
  env: NodeJS.ProcessEnv;
  /** Restart a service that exits on its own (as a Deployment does), after this delay. */
  restart: boolean;
  restartDelayMs?: number;
  log: (line: string) => void;
  onChange?: () => void;
}

/**
 * Runs each service as its own `recon service <name>` process, prefixes its output with its instance name,
 * restarts it if it dies (kill -9, a crash) and stops them all with SIGTERM, then SIGKILL after a grace period.
 */
export class ServiceSupervisor {
  private readonly children = new Map<string, { spec: SupervisedService; child: ChildProcess }>();
  private readonly streaks = new Map<string, number>();
  private stopping = false;

  constructor(private readonly options: SupervisorOptions) {}

  get services(): SupervisedService[] {
    return [...this.children.values()].map((c) => c.spec);
  }

  start(spec: ServiceSpec): void {
    const supervised = this.children.get(spec.name)?.spec ?? { ...spec, pid: undefined, restarts: 0 };
    const startedAt = Date.now();
    const child = spawn(
      process.execPath,
      [this.options.bin, 'service', spec.service, '--port', String(spec.port), '--host', this.options.host],
      { env: this.options.env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    supervised.pid = child.pid;
    let streak = this.streaks.get(spec.name) ?? 0;
    this.children.set(spec.name, { spec: supervised, child });
    for (const stream of [child.stdout!, child.stderr!])
      createInterface({ input: stream }).on('line', (line) => this.options.log(`[${spec.name}] ${line}`));
    child.on('exit', (code, signal) => {
      if (this.stopping) return;
      this.options.log(`[${spec.name}] exited (${signal ?? `code ${code}`})${this.options.restart ? '; restarting' : ''}`);
      if (!this.options.restart) return;
      supervised.restarts += 1;
      // Back off while it keeps dying at once (a taken port, a bad config), as Kubernetes does.
      streak = Date.now() - startedAt > 60_000 ? 0 : streak + 1;
      this.streaks.set(spec.name, streak);
      const delay = Math.min((this.options.restartDelayMs ?? 1000) * 2 ** Math.max(streak - 1, 0), 30_000);
      setTimeout(() => {
        if (this.stopping) return;
        this.start(spec);
        this.options.onChange?.();
      }, delay).unref();
    });
    this.options.onChange?.();
  }

  /** Resolves when every service answers /health/ready; the error names those that do not. */
  async waitReady(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    await Promise.all(
      this.services.map((spec) =>
        pRetry(
          async () => {
            // Node's fetch fails with a TypeError, which p-retry would not retry: report it as a plain Error.
            const response = await fetch(`http://${this.options.host}:${spec.port}/health/ready`).catch(
              (error: Error) => {
                throw new Error(`${spec.name}: ${error.message} (${String((error.cause as Error)?.message ?? '')})`);
              },
            );
            if (!response.ok) throw new Error(`${spec.name}: /health/ready answered ${response.status} ${await response.text()}`);
          },
          {
            forever: true,
            minTimeout: 250,
            maxTimeout: 500,
            onFailedAttempt: (error) => {
              if (Date.now() >= deadline) throw error;
            },
          },
        ).catch((error: Error) => {
          throw new Error(`service ${spec.name} (port ${spec.port}) is not ready: ${error.message}`);
        }),
      ),
    );
  }

  async stop(graceMs = 10_000): Promise<void> {
    this.stopping = true;
    const exits = [...this.children.values()].map(
      ({ child }) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          const kill = setTimeout(() => child.kill('SIGKILL'), graceMs);
          child.once('exit', () => {
            clearTimeout(kill);
            resolve();
          });
          child.kill('SIGTERM');
        }),
    );
    await Promise.all(exits);
  }
}

/** Whether a TCP port is free on the host; 0 asks the system for a free one and returns it. */
export async function claimPort(host: string, port: number): Promise<number> {
  const server = createServer();
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, resolve);
    });
    return (server.address() as { port: number }).port;
  } catch (error) {
    throw new Error(`port ${port} on ${host} is taken (${(error as Error).message}): choose another --base-port`);
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
}
