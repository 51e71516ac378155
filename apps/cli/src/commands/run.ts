import { instrumentEventBus } from '@recon/observability';
import { randomUUID } from 'node:crypto';
import { userInfo } from 'node:os';
import { Command } from 'commander';
import {
  ConfigError,
  configKeyLine,
  experimentConfigSchema,
  loadExperimentConfig,
  readRunConfig,
  RecordedConfigError,
  requestRun,
  resolveConfigPath,
  type ExperimentConfig,
} from '@recon/experiment';
import { FileBlobStore } from '@recon/eventlog';
import type { Platform } from '@recon/persistence';
import { parse as parseYaml } from 'yaml';
import { InProcessEventBus, type HandlerFailedError } from '@recon/transport';
import { startEmbeddedServices } from '../run/embedded-services';
import { buildRunReport } from '@recon/run-report';
import { writeReportFiles, writeRunReport } from '../report/write-run-report';
import { writeRunPageHtml } from '../report/run-page-html';
import { DEFAULT_METRICS_LINGER_SECONDS, serveRunMetrics } from '../run/metrics-server';
import { progressModeFor, watchRun } from '../run/watch-run';
import {
  checkRewardPlugins,
  CliFailure,
  cliProducer,
  codeVersion,
  collectRepeatable,
  REWARD_PLUGIN_FLAGS,
  REWARD_PLUGIN_HELP,
  withPlatform,
} from '../context';
import { printJsonOr } from '../output';
import { runExternalPolicy } from './run-external';
import { signCheckpointAfterRun } from '@recon/audit';
import { changedPretrainedSource } from '../run/pretrained-source';
import {
  configProblems,
  dataPathProblems,
  embeddedRewards,
  registeredRewardIds,
  rewardProblems,
  type ConfigProblem,
} from '../run/check-experiment';
import {
  blobsToResume,
  firstUnreadableBlob,
  forkStart,
  readBlobEvents,
  type RunBlob,
} from '../run/check-recorded-run';

/** The options of a command that follows a run to its report: `recon run` and `recon resume`. */
function withFollowOptions(command: Command): Command {
  return command
    .option('--report <file>', 'where to write the markdown report (default: $RECON_HOME/reports/<run>.md)')
    .option('--no-progress', 'no progress bars')
    .option(REWARD_PLUGIN_FLAGS, REWARD_PLUGIN_HELP, collectRepeatable, [])
    .option(
      '--metrics-port <port>',
      'serve Prometheus metrics on 127.0.0.1:<port>/metrics while the run goes',
      parsePort,
    )
    .option(
      '--metrics-linger <seconds>',
      'with --metrics-port: after the report, keep /metrics up until a scrape has read the final values, at most this long',
      parseLinger,
      DEFAULT_METRICS_LINGER_SECONDS,
    )
    .option('--json', 'print the outcome as JSON');
}

/**
 * `recon run <config>`: runs an experiment on the embedded deployment and writes its report; an external
 * (openai) policy is evaluated through the external-eval path instead.
 */
export function runCommand(): Command {
  return withFollowOptions(
    new Command('run')
      .description(
        'run an experiment (a YAML file or a bundled preset such as recon-mini) end to end on the embedded deployment; a config with policy.kind openai is evaluated as recon eval does (nothing to train)',
      )
      .argument('[config]', 'experiment config file or preset name', 'recon-mini')
      .option('--run-id <id>', 'run id (default: <name>-<random>)')
      .option('--seed <n>', "the run's seed instead of the config's (recorded in run.requested)", parseSeed),
  )
    .option(
      '--submit',
      'only record the run request and follow it: the services already run elsewhere (recon up, Kubernetes)',
    )
    .action(
      async (
        argument: string,
        options: FollowOptions & { runId?: string; submit?: boolean; seed?: number },
      ) => {
        let config, configFile;
        try {
          configFile = resolveConfigPath(argument);
          config = loadExperimentConfig(configFile);
        } catch (error) {
          if (error instanceof ConfigError || error instanceof Error) throw new CliFailure(error.message, 2);
          throw error;
        }
        const experiment = options.seed === undefined ? config : { ...config, seed: options.seed };
        // An external model has nothing to train: it is evaluated, as `recon eval` does, under the run id.
        if (experiment.policy.kind === 'openai')
          return runExternalPolicy(configFile, experiment, {
            ...options,
            runId: options.runId ?? `${experiment.name}-${randomUUID().slice(0, 8)}`,
          });
        // What the run would only find wrong after it started is refused now, before any event is recorded.
        // With --submit the data files and reward services are the remote services' own: only the config is.
        refuseProblems(configFile, [
          ...configProblems(experiment),
          ...(options.submit ? [] : dataPathProblems(experiment)),
        ]);
        const runId = options.runId ?? `${experiment.name}-${randomUUID().slice(0, 8)}`;
        await withPlatform(async (platform, signal) => {
          if ((await platform.eventStore.streamVersion(runId)) > 0)
            throw new CliFailure(`--run-id ${runId}: that stream already has events; choose another id`, 2);
          if (!options.submit)
            refuseProblems(
              configFile,
              rewardProblems(
                experiment,
                servedHere(options.rewardPlugin),
                await registeredRewardIds(platform.eventStore),
              ),
            );
          let busFailure: HandlerFailedError | null = null;
          // --submit: the services run elsewhere (`recon up`, Kubernetes); this process only records the request.
          const bus = options.submit
            ? null
            : instrumentEventBus(
                new InProcessEventBus(platform.eventStore, platform.pool, {
                  onError: (error) => (busFailure = error),
                }),
              );
          const backend = experiment.policy.kind === 'openai' ? 'auto' : experiment.policy.backend;
          const services = bus
            ? await startEmbeddedServices(platform, bus, {
                backend,
                rewardPlugins: checkRewardPlugins(options.rewardPlugin),
              })
            : null;
          if (options.submit && options.metricsPort)
            throw new CliFailure('--metrics-port: with --submit, the api service exports the run metrics', 2);
          const metricsServer =
            options.metricsPort && bus ? await serveRunMetrics(platform, bus, options.metricsPort) : null;
          const started = Date.now();
          try {
            await requestRun(platform.eventStore, runId, experiment, {
              requestedBy: userInfo().username,
              codeVersion: codeVersion(),
              producer: cliProducer(),
            });
            if (!options.json)
              process.stderr.write(
                `run ${runId} ${options.submit ? 'submitted to the running services' : 'requested'} (${platform.embedded ? 'embedded PostgreSQL' : 'DATABASE_URL'})\n`,
              );
            await followAndReport(platform, runId, experiment, signal, () => busFailure, started, options);
          } finally {
            await metricsServer?.close(options.metricsLinger * 1000);
            await services?.close();
            await bus?.close();
          }
        });
      },
    );
}

type FollowOptions = {
  report?: string;
  progress: boolean;
  json?: boolean;
  metricsPort?: number;
  metricsLinger: number;
  rewardPlugin: string[];
};

/** Refuses a config with a problem (exit 2), naming the file, the line and the key. */
function refuseProblems(file: string, [first]: ConfigProblem[]): void {
  if (first) throw new ConfigError(file, configKeyLine(file, first.key), first.key, first.reason);
}

/** The rewards this process's reward service will serve; a plug-in that cannot be loaded is bad usage. */
function servedHere(pluginSpecs: string[]): ReturnType<typeof embeddedRewards> {
  try {
    return embeddedRewards(pluginSpecs);
  } catch (error) {
    throw new CliFailure((error as Error).message, 2);
  }
}

/** Fails (exit 1, nothing recorded) when a blob the run will read is missing or corrupt. */
async function refuseUnreadableBlobs(platform: Platform, blobs: RunBlob[], what: string): Promise<void> {
  const unreadable = await firstUnreadableBlob(platform.blobStore, blobs);
  if (!unreadable) return;
  const store = platform.blobStore instanceof FileBlobStore ? ` (blob store ${platform.blobStore.root})` : '';
  throw new CliFailure(
    `${what}: ${unreadable.blob.what} cannot be read: ${unreadable.reason}${store}; nothing was recorded`,
  );
}

function parseSeed(value: string): number {
  const seed = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(seed))
    throw new CliFailure(`--seed: '${value}' is not a non-negative integer`, 2);
  return seed;
}

function parseLinger(value: string): number {
  const seconds = Number(value);
  if (value.trim() === '' || !Number.isFinite(seconds) || seconds < 0)
    throw new CliFailure(`--metrics-linger: '${value}' is not a number of seconds >= 0`, 2);
  return seconds;
}

function parsePort(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw new CliFailure(`--metrics-port: '${value}' is not a TCP port`, 2);
  return port;
}

/** Follows a run to its end with progress bars, then writes and prints its report. */
async function followAndReport(
  platform: Platform,
  runId: string,
  experiment: ExperimentConfig,
  signal: AbortSignal,
  failure: () => Error | null,
  started: number,
  options: FollowOptions,
): Promise<void> {
  const outcome = await watchRun(platform.eventStore, runId, experiment, {
    signal,
    progress: progressModeFor(options.progress && !options.json),
    failure,
  });
  const { events, report, reportFile } = await writeRunReport(platform, runId, options.report);
  await signCheckpointAfterRun(platform);
  const minutes = (Date.now() - started) / 60_000;
  printJsonOr(
    { runId, ...outcome, reportFile, minutes, events: events.length },
    () => `${report}\n\nreport: ${reportFile}\nwall time: ${minutes.toFixed(1)} min, ${events.length} events`,
    options,
  );
  if (outcome.status === 'failed') process.exitCode = 1;
}

/**
 * `recon resume <run>`: restarts the services on a run that was interrupted (Ctrl-C, kill -9, a crash).
 * Each service's consumer group continues after the last event it finished; training rebuilds a GRPO run
 * from its last checkpoint (weights, optimiser state), SFT is redone from its start, and every event id is
 * derived from what the event is, so what was already recorded is never recorded twice.
 */
export function resumeCommand(): Command {
  return withFollowOptions(
    new Command('resume')
      .description('continue an interrupted run from its event log and last checkpoint')
      .argument('<run>', 'run id'),
  ).action(async (runId: string, options: FollowOptions) => {
    await withPlatform(async (platform, signal) => {
      const ended = await platform.eventStore.readStream(runId, { types: ['run.completed', 'run.failed'] });
      if (ended.length > 0)
        throw new CliFailure(
          `run ${runId} has already ${ended[0].type === 'run.completed' ? 'completed' : 'failed'}`,
        );
      if ((await platform.eventStore.streamVersion(runId)) === 0) throw new CliFailure(`no run ${runId}`);
      const { config } = await readRunConfig(platform.eventStore, runId);
      const blobs = blobsToResume(await readBlobEvents(platform.eventStore, runId));
      await refuseUnreadableBlobs(platform, blobs, `run ${runId} cannot be resumed`);
      const changed = await changedPretrainedSource(platform.eventStore, runId);
      if (changed) throw new CliFailure(`run ${runId} cannot be resumed: ${changed}; nothing was recorded`);
      let busFailure: HandlerFailedError | null = null;
      const bus = instrumentEventBus(
        new InProcessEventBus(platform.eventStore, platform.pool, {
          onError: (error) => (busFailure = error),
        }),
      );
      const backend = config.policy.kind === 'openai' ? 'auto' : config.policy.backend;
      const services = await startEmbeddedServices(platform, bus, {
        backend,
        rewardPlugins: checkRewardPlugins(options.rewardPlugin),
      });
      const metricsServer = options.metricsPort
        ? await serveRunMetrics(platform, bus, options.metricsPort)
        : null;
      try {
        if (!options.json) process.stderr.write(`resuming run ${runId}\n`);
        await followAndReport(platform, runId, config, signal, () => busFailure, Date.now(), options);
      } finally {
        await metricsServer?.close(options.metricsLinger * 1000);
        await services.close();
        await bus.close();
      }
    });
  });
}

/** `recon report <run>`: rebuilds a run's report from its events. */
export function reportCommand(): Command {
  return new Command('report')
    .description("print a run's report (training curves, tables 3-5), rebuilt from its events")
    .argument('<run>', 'run id')
    .option(
      '--out <file>',
      'also write it to this file, with its training charts beside it as <file>.<chart>.svg',
    )
    .option(
      '--html <file>',
      "write the explorer's run page as one self-contained HTML file (charts inlined, no server needed) instead",
    )
    .action(async (runId: string, options: { out?: string; html?: string }) => {
      await withPlatform(async (platform) => {
        const events = await platform.eventStore.readStream(runId);
        if (events.length === 0) throw new CliFailure(`no run ${runId}`);
        if (options.html) {
          try {
            writeRunPageHtml(runId, events, options.html);
          } catch (error) {
            // An unbuilt explorer, or a file that cannot be written: the message says which.
            throw new CliFailure(`report --html: ${(error as Error).message}`);
          }
          process.stdout.write(`wrote ${options.html}\n`);
          return;
        }
        // With --out the charts are written beside the file and linked; on stdout alone there is nothing to link.
        const report = options.out
          ? writeReportFiles(runId, events, options.out).report
          : buildRunReport(runId, events);
        process.stdout.write(`${report}\n`);
      });
    });
}

/** Config keys a fork may change: it continues GRPO from a checkpoint, so data, policy shape and SFT are fixed. */
const FORKABLE = /^(seed|name|grpo|rewards|evaluation)(\.|$)/;

function applySetting(config: Record<string, unknown>, assignment: string): string {
  const eq = assignment.indexOf('=');
  if (eq <= 0)
    throw new CliFailure(`--set '${assignment}': expected key=value, e.g. grpo.learningRate=1e-5`, 2);
  const key = assignment.slice(0, eq).trim();
  if (!FORKABLE.test(key))
    throw new CliFailure(
      `--set ${key}: a fork continues from a checkpoint; only seed, name, grpo.*, rewards and evaluation.* can change`,
      2,
    );
  const value: unknown = parseYaml(assignment.slice(eq + 1));
  const path = key.split('.');
  let node = config;
  for (const part of path.slice(0, -1)) {
    if (typeof node[part] !== 'object' || node[part] === null) node[part] = {};
    node = node[part] as Record<string, unknown>;
  }
  node[path[path.length - 1]] = value;
  return key;
}

/**
 * `recon fork <run> --from-step N [--set key=value ...]`: a new run that continues the parent's GRPO from
 * its checkpoint at step N (0 = the SFT checkpoint) with changed settings. Its lineage (parent, step,
 * changed keys) is in its `run.requested` and shows in `recon runs`.
 */
export function forkCommand(): Command {
  return new Command('fork')
    .description("start a new run from a run's checkpoint at a GRPO step, with changed settings")
    .argument('<run>', 'parent run id')
    .requiredOption(
      '--from-step <n>',
      'GRPO step whose checkpoint to start from (0: the SFT checkpoint)',
      (v) => {
        const n = Number(v);
        if (!Number.isInteger(n) || n < 0)
          throw new CliFailure(`--from-step: '${v}' is not a step number`, 2);
        return n;
      },
    )
    .option(
      '--set <key=value>',
      'change a setting (repeatable), e.g. --set grpo.learningRate=1e-5',
      (v, all: string[]) => [...all, v],
      [],
    )
    .option('--run-id <id>', 'run id (default: <parent>.fork-<random>)')
    .option('--report <file>', 'where to write the markdown report')
    .option('--no-progress', 'no progress bars')
    .option(REWARD_PLUGIN_FLAGS, REWARD_PLUGIN_HELP, collectRepeatable, [])
    .option('--json', 'print the outcome as JSON')
    .action(
      async (
        parentId: string,
        options: FollowOptions & { fromStep: number; set: string[]; runId?: string },
      ) => {
        await withPlatform(async (platform, signal) => {
          if ((await platform.eventStore.streamVersion(parentId)) === 0)
            throw new CliFailure(`no run ${parentId}`);
          const parent = await readRunConfig(platform.eventStore, parentId).catch((error: unknown) => {
            if (!(error instanceof RecordedConfigError)) throw error;
            throw new CliFailure(
              `cannot fork ${error.message} (only a run recorded by \`recon run\` has a config to continue; a \`recon demo\` run is synthetic)`,
            );
          });
          const changed = JSON.parse(JSON.stringify(parent.request.config)) as Record<string, unknown>;
          const changedKeys = options.set.map((assignment) => applySetting(changed, assignment));
          const parsed = experimentConfigSchema.safeParse(changed);
          if (!parsed.success) {
            const issue = parsed.error.issues[0];
            throw new CliFailure(`--set: ${issue.path.join('.')}: ${issue.message}`, 2);
          }
          const experiment = parsed.data;
          const [problem] = [
            ...configProblems(experiment, { fork: true }),
            ...rewardProblems(
              experiment,
              servedHere(options.rewardPlugin),
              await registeredRewardIds(platform.eventStore),
            ),
          ];
          if (problem) throw new CliFailure(`fork of ${parentId}: ${problem.key}: ${problem.reason}`, 2);
          const grpoSteps = experiment.grpo?.steps ?? 0;
          if (options.fromStep >= grpoSteps)
            throw new CliFailure(
              `--from-step ${options.fromStep}: must be before grpo.steps (${grpoSteps})`,
              2,
            );
          const parentBlobs = await readBlobEvents(platform.eventStore, parentId);
          const start = forkStart(parentId, parentBlobs, options.fromStep);
          if ('problem' in start) throw new CliFailure(start.problem, start.usage ? 2 : 1);
          await refuseUnreadableBlobs(platform, start.blobs, `cannot fork ${parentId}`);
          const runId = options.runId ?? `${parentId}.fork-${randomUUID().slice(0, 8)}`;
          if ((await platform.eventStore.streamVersion(runId)) > 0)
            throw new CliFailure(`--run-id ${runId}: that stream already has events; choose another id`, 2);
          let busFailure: HandlerFailedError | null = null;
          const bus = new InProcessEventBus(platform.eventStore, platform.pool, {
            onError: (error) => (busFailure = error),
          });
          const backend = experiment.policy.kind === 'openai' ? 'auto' : experiment.policy.backend;
          const services = await startEmbeddedServices(platform, bus, {
            backend,
            rewardPlugins: checkRewardPlugins(options.rewardPlugin),
          });
          try {
            await requestRun(platform.eventStore, runId, experiment, {
              requestedBy: userInfo().username,
              codeVersion: codeVersion(),
              producer: cliProducer(),
              parent: { runId: parentId, step: options.fromStep, changedKeys },
            });
            if (!options.json)
              process.stderr.write(
                `fork ${runId} of ${parentId} at GRPO step ${options.fromStep} (${changedKeys.join(', ') || 'no changes'})\n`,
              );
            await followAndReport(platform, runId, experiment, signal, () => busFailure, Date.now(), options);
          } finally {
            await services.close();
            await bus.close();
          }
        });
      },
    );
}
