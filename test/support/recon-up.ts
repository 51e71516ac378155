import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PayloadOf } from '@recon/contracts';
import type { EventStore, RecordedEvent } from '@recon/eventlog';
import { waitFor } from './prometheus';
import { RECON_BIN } from './recon-cli';
import { REPRODUCIBLE_TYPES } from './run-events';

/**
 * The event types whose payloads depend neither on the run id nor on timing: two runs of one config and seed
 * under `recon up` agree on them, however the work was spread over the workers (see payloadFingerprint).
 */
export const REPRODUCIBLE_UNDER_UP: ReadonlySet<string> = new Set([
  ...REPRODUCIBLE_TYPES,
  'rollout.shard.requested',
  'policy.ready',
  'evaluation.completed',
  'run.completed',
]);

/** A fresh RECON_HOME (readable by the postgres user too, for an embedded server running as it). */
export function makeReconHome(prefix: string): string {
  const home = mkdtempSync(join(tmpdir(), `recon-${prefix}-`));
  chmodSync(home, 0o755);
  return home;
}

/** A RECON_KAFKA_NAMESPACE of its own: topics and consumer groups no other suite on the broker shares. */
export function kafkaNamespace(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}

/** Sends SIGTERM (or `signal`) to a child that still runs, and waits until it has exited; its exit code. */
export async function stopChild(
  child: ChildProcess,
  signal: NodeJS.Signals = 'SIGTERM',
): Promise<number | null> {
  if (child.exitCode === null && child.signalCode === null) {
    const exited = new Promise((r) => child.once('exit', r));
    child.kill(signal);
    await exited;
  }
  return child.exitCode;
}

export interface UpService {
  name: string;
  service: string;
  port: number;
  pid: number;
  restarts: number;
}

export interface SubmitOutcome {
  code: number | null;
  /** The run's status from the JSON outcome, or what the CLI printed when it printed none. */
  status: string;
}

/** A running `recon up`: every service its own process over Kafka, restarted when it dies. */
export interface ReconUp {
  home: string;
  env: NodeJS.ProcessEnv;
  configFile: string;
  process: ChildProcess;
  /** Everything `recon up` printed so far. */
  log(): string;
  /** The services as `<home>/up.json` has them now. */
  services(): UpService[];
  service(name: string): UpService;
  /** `recon run <config> --submit --run-id <runId>`: resolves when the run has ended. */
  submit(runId: string): Promise<SubmitOutcome>;
  /** SIGTERM, and its exit code once every service has stopped. */
  stop(): Promise<number | null>;
  /** Stops it and deletes its home. */
  destroy(): Promise<void>;
}

export interface ReconUpOptions {
  home: string;
  /** The experiment config (YAML) that submit() runs, stored in the home as `<name>.yaml`. */
  config: { name: string; yaml: string };
  /** DATABASE_URL, KAFKA_BROKERS, RECON_KAFKA_NAMESPACE and the like, over this process's environment. */
  env: NodeJS.ProcessEnv;
  /** `--scale`, e.g. 'rollout=2,reward=2'. */
  scale?: string;
  /** How many services `recon up` reports ready. */
  services: number;
}

export async function startReconUp(options: ReconUpOptions): Promise<ReconUp> {
  const { home } = options;
  const configFile = join(home, `${options.config.name}.yaml`);
  writeFileSync(configFile, options.config.yaml);
  const env: NodeJS.ProcessEnv = { ...process.env, RECON_HOME: home, RECON_BACKEND: 'wasm', ...options.env };
  const scale = options.scale ? ['--scale', options.scale] : [];
  const up = spawn(
    process.execPath,
    [RECON_BIN, 'up', ...scale, '--base-port', '0', '--ready-timeout', '90'],
    {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let log = '';
  up.stdout!.on('data', (chunk: Buffer) => (log += chunk.toString()));
  up.stderr!.on('data', (chunk: Buffer) => (log += chunk.toString()));
  const stop = () => stopChild(up);
  try {
    await waitFor(
      'recon up to report every service ready',
      async () => (log.includes(`ready: ${options.services} services`) ? true : undefined),
      120_000,
    );
  } catch (error) {
    await stop();
    throw error;
  }
  const services = () =>
    (JSON.parse(readFileSync(join(home, 'up.json'), 'utf8')) as { services: UpService[] }).services;
  return {
    home,
    env,
    configFile,
    process: up,
    log: () => log,
    services,
    service: (name) => {
      const found = services().find((s) => s.name === name);
      if (!found) throw new Error(`recon up runs no service ${name}`);
      return found;
    },
    submit: (runId) => submit(env, configFile, runId),
    stop,
    destroy: async () => {
      await stop();
      rmSync(home, { recursive: true, force: true });
    },
  };
}

function submit(env: NodeJS.ProcessEnv, configFile: string, runId: string): Promise<SubmitOutcome> {
  const child = spawn(
    process.execPath,
    [RECON_BIN, 'run', configFile, '--submit', '--run-id', runId, '--no-progress', '--json'],
    { env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  let err = '';
  child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (err += chunk.toString()));
  return new Promise((r) =>
    child.once('exit', (code) => {
      let status = `no JSON outcome: ${err}`;
      try {
        status = (JSON.parse(out) as { status: string }).status;
      } catch {
        /* reported through status */
      }
      r({ code, status });
    }),
  );
}

/** Polls until the run's stream has an event of the type. */
export async function waitForEvent(
  eventStore: EventStore,
  runId: string,
  type: string,
  timeoutMs = 240_000,
): Promise<void> {
  await waitFor(
    `${type} in ${runId}`,
    async () => ((await eventStore.readStream(runId, { types: [type] })).length > 0 ? true : undefined),
    timeoutMs,
  );
}

/** Each event recorded once, and each of the run's rollouts generated and scored exactly once. */
export function expectEachRolloutOnce(events: RecordedEvent[], rollouts: number): void {
  expect(new Set(events.map((e) => e.eventId)).size).toBe(events.length);
  for (const type of ['rollout.generated', 'reward.scored'] as const) {
    const ids = events
      .filter((e) => e.type === type)
      .map((e) => (e.payload as PayloadOf<typeof type>).rolloutId);
    expect([type, ids.length, new Set(ids).size]).toEqual([type, rollouts, rollouts]);
  }
}
