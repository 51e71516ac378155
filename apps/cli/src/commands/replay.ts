import { randomUUID } from 'node:crypto';
import { userInfo } from 'node:os';
import { Command } from 'commander';
import { storableText, type PayloadOf } from '@recon/contracts';
import { readRunConfig } from '@recon/experiment';
import { isBackendName, selectBackend, type BackendName } from '@recon/policy';
import { InProcessEventBus, type HandlerFailedError } from '@recon/transport';
import { startEmbeddedServices } from '../run/embedded-services';
import { compareRuns } from '../run/verify-replay';
import { signCheckpointAfterRun } from '@recon/audit';
import { changedPretrainedSource } from '../run/pretrained-source';
import { awaitRescore, requestRescore, rescoreReport, resolveRescoreReward } from '../run/rescore';
import { progressModeFor, watchRun } from '../run/watch-run';
import { cliProducer, codeVersion } from '../context';
import {
  checkRewardPlugins,
  CliFailure,
  collectRepeatable,
  REWARD_PLUGIN_FLAGS,
  REWARD_PLUGIN_HELP,
  withPlatform,
} from '../context';
import { kafkaBrokersFromEnv, PlatformModule } from '@recon/service-kit';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { RewardModule } from '@recon/reward';
import { printJsonOr } from '../output';

interface ReplayOptions {
  all?: boolean;
  rebuild?: boolean;
  verify?: boolean;
  rescore?: string;
  timeout: number;
  rewardPlugin: string[];
  json?: boolean;
}

export function replayCommand(): Command {
  return new Command('replay')
    .description(
      'replay a run from its events (--rebuild: drop and rebuild its read models, proving equality)',
    )
    .argument('[run]', 'run id')
    .option('--all', 'every run (with --rebuild: every read-model table)')
    .option('--rebuild', 'drop and rebuild the read models from the log and compare table digests')
    .option(
      '--verify',
      're-execute the run from its recorded config and seed with this code and compare every event',
    )
    .option(
      '--rescore <reward>',
      'score every recorded rollout with another reward (<id>[@version]) into a derived stream',
    )
    .option(
      '--timeout <seconds>',
      'with --rescore: how long to wait for the reward service to score every rollout',
      (v) => {
        const n = Number(v);
        if (!Number.isFinite(n) || n <= 0)
          throw new CliFailure(`--timeout: '${v}' is not a positive number of seconds`, 2);
        return n;
      },
      600,
    )
    .option(REWARD_PLUGIN_FLAGS, REWARD_PLUGIN_HELP, collectRepeatable, [])
    .option('--json', 'print JSON')
    .action(async (runId: string | undefined, options: ReplayOptions) => {
      if (options.rescore) {
        if (!runId || options.all) throw new CliFailure('replay --rescore: name one run', 2);
        await rescoreCommandBody(runId, options.rescore, options);
        return;
      }
      if (options.verify) {
        if (!runId || options.all || options.rebuild)
          throw new CliFailure('replay --verify: name one run, without --all or --rebuild', 2);
        await verifyRun(runId, options);
        return;
      }
      if (!options.rebuild) throw new CliFailure('replay: say what to do: --rebuild or --verify', 2);
      if (!runId === !options.all) throw new CliFailure('replay: name one run, or pass --all', 2);
      await withPlatform(async (platform) => {
        if (runId && (await platform.eventStore.streamVersion(runId)) === 0) {
          throw new CliFailure(`run '${runId}' has no events`);
        }
        const result = await platform.projections.rebuild(runId);
        printJsonOr(
          result,
          () =>
            [
              `rebuilt ${runId ? `run ${runId}` : 'every read model'} from ${result.eventsReplayed} events`,
              ...result.after.tables.map((table, i) => {
                const before = result.before.tables[i];
                const same = before.digest === table.digest ? 'identical' : 'DIFFERENT';
                return `  ${table.table.padEnd(16)} ${String(before.rows).padStart(7)} -> ${String(table.rows).padStart(7)} rows  ${same}`;
              }),
              `digest before ${result.before.digest}`,
              `digest after  ${result.after.digest}`,
              result.identical
                ? 'read models identical'
                : 'read models DIFFER from the log: the rebuilt tables now follow the log',
            ].join('\n'),
          options,
        );
        if (!result.identical) process.exitCode = 1;
      });
    });
}

/**
 * Starts the backend a run recorded, with the BLAS kernels and thread count it recorded (wasm-openblas), or
 * fails saying which backend is missing and why: on another backend the replay would diverge in the last bits.
 */
async function selectRecordedBackend(
  runId: string,
  recorded: PayloadOf<'policy.initialised'>['backend'],
): Promise<BackendName> {
  const described = recorded.blas
    ? `${recorded.name} (${recorded.blas}, ${recorded.threads} threads)`
    : recorded.name;
  if (!isBackendName(recorded.name))
    throw new CliFailure(
      `run '${runId}' was recorded on backend ${described}, which this code does not know`,
    );
  try {
    await selectBackend(
      recorded.name,
      recorded.name === 'wasm-openblas' ? { blas: recorded.blas, threads: recorded.threads } : {},
    );
  } catch (error) {
    throw new CliFailure(
      `run '${runId}' was recorded on backend ${described}, which is not available here: ${(error as Error).message}`,
    );
  }
  return recorded.name;
}

/**
 * `recon replay <run> --verify`: re-executes the run from its recorded config and seed with the current code
 * (on the backend it recorded, since backends agree only to about five decimals) as a new run
 * `<run>.verify-<id>`, then compares every produced event's payload with the recorded one.
 */
async function verifyRun(runId: string, options: ReplayOptions): Promise<void> {
  await withPlatform(async (platform, signal) => {
    if ((await platform.eventStore.streamVersion(runId)) === 0)
      throw new CliFailure(`run '${runId}' has no events`);
    const { config, request } = await readRunConfig(platform.eventStore, runId);
    const changed = await changedPretrainedSource(platform.eventStore, runId);
    if (changed) throw new CliFailure(`run '${runId}' cannot be re-executed: ${changed}; nothing was recorded`);
    const [initialised] = await platform.eventStore.readStream(runId, { types: ['policy.initialised'] });
    const recorded = initialised?.payload.backend;
    const backend = recorded ? await selectRecordedBackend(runId, recorded) : 'auto';
    let failure: HandlerFailedError | null = null;
    const bus = new InProcessEventBus(platform.eventStore, platform.pool, {
      onError: (error) => (failure = error),
    });
    const services = await startEmbeddedServices(platform, bus, {
      backend,
      rewardPlugins: checkRewardPlugins(options.rewardPlugin),
    });
    const replayId = `${runId}.verify-${randomUUID().slice(0, 8)}`;
    try {
      await platform.eventStore.append(
        replayId,
        [
          {
            type: 'run.requested',
            payload: {
              ...request,
              name: `verification replay of ${runId}`,
              requestedBy: userInfo().username,
              codeVersion: codeVersion(),
            },
          },
        ],
        { expectedVersion: 'no-stream', producer: cliProducer() },
      );
      if (!options.json) process.stderr.write(`re-executing ${runId} as ${replayId} (backend ${backend})\n`);
      await watchRun(platform.eventStore, replayId, config, {
        signal,
        progress: progressModeFor(!options.json),
        failure: () => failure,
      });
    } finally {
      await services.close();
      await bus.close();
    }
    const comparison = compareRuns(
      await platform.eventStore.readStream(runId),
      runId,
      await platform.eventStore.readStream(replayId),
      replayId,
    );
    const d = comparison.firstDivergence;
    // The outcome stays on the run, so its audit report shows it; replays skip this type when comparing.
    await platform.eventStore.append(
      runId,
      [
        {
          type: 'run.replay.verified',
          payload: {
            replayRunId: replayId,
            identical: d === null,
            compared: comparison.compared,
            codeVersion: codeVersion(),
            requestedBy: userInfo().username,
            ...(d
              ? {
                  firstDivergence: {
                    position: d.position,
                    type: d.type,
                    differences: d.differences.slice(0, 20).map((line) => storableText(line, 500)),
                  },
                }
              : {}),
          },
        },
      ],
      { expectedVersion: 'any', producer: cliProducer() },
    );
    await signCheckpointAfterRun(platform);
    printJsonOr(
      { runId, replayId, recordedCode: request.codeVersion, code: codeVersion(), ...comparison },
      () =>
        d === null
          ? `identical: ${comparison.compared} events of ${runId} reproduced by ${replayId} (code ${request.codeVersion} -> ${codeVersion()})`
          : [
              `DIVERGES at position ${d.position} (${d.type} #${d.index + 1}); replay in ${replayId}`,
              ...d.differences.slice(0, 20).map((line) => `  ${line}`),
            ].join('\n'),
      options,
    );
    if (d !== null) process.exitCode = 1;
  });
}

/**
 * `replay --rescore`: the rescore is a request on the log that the reward service answers. Without Kafka
 * (the embedded deployment) this process runs the reward service itself, with any --reward-plugin; with
 * KAFKA_BROKERS the deployed reward service answers it.
 */
async function rescoreCommandBody(runId: string, spec: string, options: ReplayOptions): Promise<void> {
  const plugins = checkRewardPlugins(options.rewardPlugin);
  await withPlatform(async (platform) => {
    if ((await platform.eventStore.streamVersion(runId)) === 0)
      throw new CliFailure(`run '${runId}' has no events`);
    let rewardService: { close(): Promise<void> } | null = null;
    let bus: InProcessEventBus | null = null;
    if (!kafkaBrokersFromEnv()) {
      const inProcess = new InProcessEventBus(platform.eventStore, platform.pool);
      bus = inProcess;
      @Module({ imports: [PlatformModule.forRoot(platform, inProcess), RewardModule.forRoot(plugins)] })
      class RescoreRewardService {}
      rewardService = await NestFactory.createApplicationContext(RescoreRewardService, {
        logger: ['error', 'warn'],
      });
    }
    let report;
    try {
      let reward;
      try {
        reward = await resolveRescoreReward(platform.eventStore, spec);
      } catch (error) {
        throw new CliFailure(`replay --rescore: ${(error as Error).message}`, 2);
      }
      const request = await requestRescore(platform.eventStore, runId, reward, {
        actor: userInfo().username,
        producer: cliProducer(),
      });
      await awaitRescore(platform.eventStore, request, options.timeout * 1000);
      report = await rescoreReport(platform.eventStore, request);
    } finally {
      await rewardService?.close();
      await bus?.close();
    }
    const f = (x: number) => (Number.isFinite(x) ? x.toFixed(3) : '–');
    printJsonOr(
      report,
      () =>
        [
          `rescored ${report.rollouts} rollouts of ${runId} with ${report.rewardId}@${report.rewardVersion} -> stream ${report.streamId}`,
          `agreement with ${report.originalRewardId}: correlation ${f(report.correlation)}, same sign ${(report.signAgreement * 100).toFixed(1)}%`,
          ...(report.failed > 0
            ? [`${report.failed} rollouts could not be scored, e.g. ${report.failures[0]}`]
            : []),
          '',
          'step | original mean (std) | rescored mean (std)',
          ...report.perStep.map(
            (s) =>
              `${String(s.step).padStart(4)} | ${f(s.original.mean)} (${f(s.original.std)}) | ${f(s.rescored.mean)} (${f(s.rescored.std)})`,
          ),
          '',
          'category | rollouts | original mean | rescored mean',
          ...report.perCategory.map(
            (c) => `${c.category} | ${c.rollouts} | ${f(c.original)} | ${f(c.rescored)}`,
          ),
        ].join('\n'),
      options,
    );
  });
}
