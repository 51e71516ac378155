import { execFile } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const ROOT = resolve(__dirname, '../..');
// Under jest this file runs from scripts/kafka; compiled, from dist/scripts/kafka.
const SCRIPT = join(ROOT.endsWith('/dist') ? resolve(ROOT, '..') : ROOT, 'scripts/kafka/kafka.sh');

export interface LocalBroker {
  brokers: string[];
  /**
   * With `security: 'scram'`: the user created at format time, the file holding its password, and the broker's
   * SASL_SSL listener (port + 2) with the CA file its certificate is signed by.
   */
  scram?: { username: string; passwordFile: string; tlsBrokers: string[]; caFile: string };
  /** True when this process started the broker (and so stops it in release()). */
  startedHere: boolean;
  release(): Promise<void>;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function kafkaSh(
  command: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await run('bash', [SCRIPT, command], {
      env,
      maxBuffer: 16 * 1024 * 1024,
    });
    return { code: 0, output: `${stdout}${stderr}` };
  } catch (error) {
    const failure = error as { code?: number; stdout?: string; stderr?: string };
    return {
      code: typeof failure.code === 'number' ? failure.code : 1,
      output: `${failure.stdout ?? ''}${failure.stderr ?? ''}`,
    };
  }
}

function scramOf(state: string, port: number): NonNullable<LocalBroker['scram']> {
  const username = process.env.KAFKA_SCRAM_USERNAME ?? 'recon';
  const tlsPort = process.env.KAFKA_TLS_PORT ?? String(port + 2);
  return {
    username,
    passwordFile: join(state, 'credentials', `${username}.password`),
    tlsBrokers: [`127.0.0.1:${tlsPort}`],
    caFile: join(state, 'tls', 'ca.crt'),
  };
}

export interface LocalBrokerOptions {
  /**
   * 'scram': a broker of its own whose client listener wants SASL/SCRAM (KAFKA_SECURITY=scram of kafka.sh) on
   * `port` (KAFKA_BROKERS is ignored: the shared broker is a plaintext one).
   */
  security?: 'plaintext' | 'scram';
  /** Client port (default KAFKA_PORT, else 19092); the controller uses port + 1. */
  port?: number;
}

/**
 * The broker for tests and benchmarks: KAFKA_BROKERS when set (never started or stopped here), else the
 * single-node broker of scripts/kafka/kafka.sh on 127.0.0.1:KAFKA_PORT (default 19092), started when it is
 * not running. Each user holds a lease file; the process that started the broker stops it on release,
 * after the other leases (test files running in parallel) have ended.
 */
export async function acquireLocalBroker(options: LocalBrokerOptions = {}): Promise<LocalBroker> {
  const security = options.security ?? 'plaintext';
  if (process.env.KAFKA_BROKERS && security === 'plaintext' && options.port === undefined) {
    return {
      brokers: process.env.KAFKA_BROKERS.split(','),
      startedHere: false,
      release: async () => undefined,
    };
  }
  const port = String(options.port ?? process.env.KAFKA_PORT ?? '19092');
  const home = process.env.KAFKA_HOME ?? join(ROOT, '.kafka');
  const env: NodeJS.ProcessEnv = { ...process.env, KAFKA_PORT: port, KAFKA_SECURITY: security };
  // A port of its own has its controller on port + 1 (kafka.sh's default), not the shared broker's.
  if (options.port !== undefined) delete env.KAFKA_CONTROLLER_PORT;
  const kafka = (command: string) => kafkaSh(command, env);
  const leases = join(home, `leases-${port}`);
  mkdirSync(leases, { recursive: true });
  const lease = join(leases, String(process.pid));
  writeFileSync(lease, '');
  const wasRunning = (await kafka('status')).code === 0;
  const started = await kafka('start');
  if (started.code !== 0) {
    rmSync(lease, { force: true });
    throw new Error(`scripts/kafka/kafka.sh start failed (exit ${started.code}):\n${started.output}`);
  }
  const startedHere = !wasRunning && /kafka: started/.test(started.output);
  return {
    brokers: [`127.0.0.1:${port}`],
    ...(security === 'scram' ? { scram: scramOf(join(home, `broker-${port}`), Number(port)) } : {}),
    startedHere,
    release: async () => {
      rmSync(lease, { force: true });
      if (!startedHere) return;
      for (let waited = 0; waited < 300; waited += 1) {
        const others = readdirSync(leases).filter((name) => alive(Number(name)));
        if (others.length === 0) break;
        await new Promise((r) => setTimeout(r, 1000));
      }
      const stopped = await kafka('stop');
      if (stopped.code !== 0)
        throw new Error(`scripts/kafka/kafka.sh stop failed (exit ${stopped.code}):\n${stopped.output}`);
    },
  };
}
