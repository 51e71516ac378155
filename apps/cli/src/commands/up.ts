import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Command } from 'commander';
import { openPlatform, reconHome, redactUrl } from '@recon/persistence';
import { describeKafkaConnection, kafkaConnectionFromEnv } from '@recon/transport';
import { claimPort, ServiceSupervisor, type ServiceSpec } from '../up/service-supervisor';
import {
  checkRewardPlugins,
  CliFailure,
  collectRepeatable,
  REWARD_PLUGIN_FLAGS,
  REWARD_PLUGIN_HELP,
} from '../context';

const SERVICES = ['api', 'data', 'training', 'rollout', 'reward', 'evaluation'] as const;
/** Services that may run as several instances (consumer-group members); the others are one per deployment. */
const SCALABLE = new Set(['rollout', 'reward', 'evaluation', 'data']);

export function parseScale(value: string, previous: Record<string, number> = {}): Record<string, number> {
  const scale = { ...previous };
  for (const part of value.split(',').filter(Boolean)) {
    const match = /^([a-z]+)=(\d+)$/.exec(part.trim());
    if (!match) throw new CliFailure(`--scale: '${part}' is not <service>=<instances>, e.g. rollout=2`, 2);
    const [, service, count] = match;
    if (!SCALABLE.has(service))
      throw new CliFailure(`--scale: '${service}' cannot be scaled (one of ${[...SCALABLE].join(', ')})`, 2);
    if (Number(count) < 1 || Number(count) > 16)
      throw new CliFailure(`--scale: ${service}=${count}: between 1 and 16 instances`, 2);
    scale[service] = Number(count);
  }
  return scale;
}

interface UpOptions {
  scale: Record<string, number>;
  basePort: number;
  host: string;
  restart: boolean;
  rewardPlugin: string[];
  readyTimeout: number;
}

/**
 * `recon up`: the distributed deployment on one machine. Every service is its own process
 * (`recon service <name>`), over Kafka when KAFKA_BROKERS is set, on the database of DATABASE_URL (or the
 * embedded PostgreSQL, whose URL the services are given); it migrates first, waits until every service is
 * ready, writes `<home>/up.json`, restarts a service that dies, and stops them all on Ctrl-C or SIGTERM.
 */
export function upCommand(): Command {
  return new Command('up')
    .description('start every service as its own process (over Kafka with KAFKA_BROKERS); submit runs with `recon run --submit`')
    .option('--scale <service=n,...>', 'instances per service, e.g. rollout=2,reward=2', (v, prev) => parseScale(v, prev), {})
    .option(
      '--base-port <port>',
      'first HTTP port; each instance takes the next (0: any free ports)',
      (v) => {
        const port = Number(v);
        if (!Number.isInteger(port) || port < 0 || port > 65535)
          throw new CliFailure(`--base-port: '${v}' is not a TCP port`, 2);
        return port;
      },
      3100,
    )
    .option('--host <host>', 'address the services listen on', '127.0.0.1')
    .option('--no-restart', 'leave a service that dies stopped (default: restart it, as a Deployment would)')
    .option('--ready-timeout <seconds>', 'how long to wait for every service to be ready', (v) => Number(v), 120)
    .option(REWARD_PLUGIN_FLAGS, REWARD_PLUGIN_HELP, collectRepeatable, [])
    .action(async (options: UpOptions) => {
      const plugins = checkRewardPlugins(options.rewardPlugin).map((p) => (p.includes('/') ? resolve(p) : p));
      // Checked before anything starts: a bad KAFKA_SASL_* / KAFKA_TLS* fails here, once, naming the variable.
      const kafka = kafkaConnectionFromEnv();
      const brokers = kafka?.brokers ?? null;
      const platform = await openPlatform({ migrations: 'auto' });
      const specs: ServiceSpec[] = [];
      let port = options.basePort;
      for (const service of SERVICES) {
        const count = options.scale[service] ?? 1;
        for (let i = 1; i <= count; i++) {
          const claimed = await claimPort(options.host, port === 0 ? 0 : port++).catch((error: Error) => {
            throw new CliFailure(`recon up: ${error.message}`, 2);
          });
          specs.push({ name: count > 1 ? `${service}-${i}` : service, service, port: claimed });
        }
      }
      const home = reconHome();
      const stateFile = join(home, 'up.json');
      const supervisor = new ServiceSupervisor({
        bin: require.main?.filename ?? resolve(__dirname, '../../../../../bin/recon'),
        host: options.host,
        restart: options.restart,
        env: {
          ...process.env,
          DATABASE_URL: platform.databaseUrl,
          RECON_HOME: home,
          ...(plugins.length ? { RECON_REWARD_PLUGINS: plugins.join(',') } : {}),
        },
        log: (line) => process.stderr.write(`${line}\n`),
        onChange: () => writeState(),
      });
      const writeState = () => {
        mkdirSync(home, { recursive: true });
        writeFileSync(
          stateFile,
          `${JSON.stringify({ pid: process.pid, kafka: brokers, databaseUrl: redactUrl(platform.databaseUrl), services: supervisor.services }, null, 2)}\n`,
        );
      };
      const stopped = new Promise<void>((resolveStop) => {
        process.once('SIGINT', () => resolveStop());
        process.once('SIGTERM', () => resolveStop());
      });
      try {
        if (!brokers)
          process.stderr.write('recon up: KAFKA_BROKERS is not set: the services tail the event log in-process\n');
        for (const spec of specs) supervisor.start(spec);
        await Promise.race([
          supervisor.waitReady(options.readyTimeout * 1000),
          stopped.then(() => {
            throw new CliFailure('recon up: stopped before the services were ready', 130);
          }),
        ]);
        process.stdout.write(
          [
            ...supervisor.services.map((s) => `${s.name.padEnd(12)} pid ${String(s.pid).padEnd(8)} http://${options.host}:${s.port}`),
            `ready: ${specs.length} services${kafka ? ` over Kafka ${describeKafkaConnection(kafka)}` : ''}; state in ${stateFile}`,
            '',
          ].join('\n'),
        );
        await stopped;
      } finally {
        await supervisor.stop();
        rmSync(stateFile, { force: true });
        await platform.close();
      }
    });
}
