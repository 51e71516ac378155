import type { PayloadOf } from '@recon/contracts';
import { WrongExpectedVersionError } from '@recon/eventlog';
import { ConfigError, type ExperimentConfig } from '@recon/experiment';
import { redactUrl } from '@recon/persistence';
import { ExternalModelError } from '@recon/evaluation';
import { externalEvaluationFromConfig } from '../external-eval/config-evaluation';
import { evaluateExternalModel } from '../external-eval/evaluate-external-model';
import { writeRunReport } from '../report/write-run-report';
import { CliFailure, cliExternalEvaluationContext, withPlatform } from '../context';
import { printJsonOr } from '../output';

export interface ExternalRunOptions {
  runId: string;
  report?: string;
  json?: boolean;
  submit?: boolean;
  metricsPort?: number;
  rewardPlugin: string[];
}

/** Options of `recon run` that mean nothing for a model that is only evaluated, by this process. */
function refuseTrainingOptions(options: ExternalRunOptions): void {
  const why = 'a config with policy.kind openai is evaluated by this process, through the external-eval path';
  if (options.submit) throw new CliFailure(`--submit: ${why} (the services do not call external models)`, 2);
  if (options.metricsPort !== undefined)
    throw new CliFailure(`--metrics-port: ${why}; it has no run metrics`, 2);
  if (options.rewardPlugin.length > 0)
    throw new CliFailure(`--reward-plugin: ${why}; nothing is trained, so no reward is computed`, 2);
}

/**
 * `recon run <config>` when the config's policy is an OpenAI-compatible model: the run is an external
 * evaluation (the stream `recon eval` records, under the run id), followed by the run report.
 */
export async function runExternalPolicy(
  file: string,
  experiment: ExperimentConfig,
  options: ExternalRunOptions,
): Promise<void> {
  if (experiment.policy.kind !== 'openai') throw new Error(`${file}: policy.kind is not openai`);
  refuseTrainingOptions(options);
  let request;
  try {
    request = externalEvaluationFromConfig({ ...experiment, policy: experiment.policy }, file, options.runId);
  } catch (error) {
    if (error instanceof ConfigError) throw new CliFailure(error.message, 2);
    throw error;
  }
  const { runId } = options;
  await withPlatform(async (platform, signal) => {
    if ((await platform.eventStore.streamVersion(runId)) > 0)
      throw new CliFailure(`--run-id ${runId}: that stream already has events; choose another id`, 2);
    if (!options.json)
      process.stderr.write(
        `run ${runId}: evaluating ${request.model.model} at ${redactUrl(request.model.baseUrl)} on ${request.suites.join(', ')} (an external policy: nothing to train)\n`,
      );
    const started = Date.now();
    let failure: ExternalModelError | null = null;
    try {
      await evaluateExternalModel(platform, request, cliExternalEvaluationContext(signal, options));
    } catch (error) {
      if (error instanceof WrongExpectedVersionError && error.streamId === runId)
        throw new CliFailure(`--run-id ${runId}: that stream already has events; choose another id`, 2);
      if (signal.aborted) throw new CliFailure(`run ${runId} interrupted (recorded as run.failed)`, 130);
      if (!(error instanceof ExternalModelError)) throw error;
      failure = error;
    }
    const { events, report, reportFile } = await writeRunReport(platform, runId, options.report);
    const minutes = (Date.now() - started) / 60_000;
    const completed = events.find((e) => e.type === 'run.completed')?.payload as
      PayloadOf<'run.completed'> | undefined;
    const failed = events.find((e) => e.type === 'run.failed')?.payload as
      PayloadOf<'run.failed'> | undefined;
    const outcome = completed
      ? { status: 'completed', summary: completed.summary }
      : { status: 'failed', phase: failed?.phase, error: failed?.error ?? failure?.message };
    printJsonOr(
      { runId, kind: 'external-eval', ...outcome, reportFile, minutes, events: events.length },
      () =>
        `${report}\n\nreport: ${reportFile}\nwall time: ${minutes.toFixed(1)} min, ${events.length} events`,
      options,
    );
    if (failure) {
      process.stderr.write(`run ${runId} failed: ${failure.message} (recorded as run.failed)\n`);
      process.exitCode = 1;
    }
  });
}
