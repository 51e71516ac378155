import { existsSync, statSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { WrongExpectedVersionError } from '@recon/eventlog';
import {
  ExternalEvaluationConflictError,
  ExternalModelError,
  headlineResults,
  OpponentSettingError,
} from '@recon/evaluation';
import { evaluateExternalModel } from '../external-eval/evaluate-external-model';
import { defaultEvalId, EvalUsageError, parsePolicySpec, parseSuites } from '../external-eval/eval-options';
import { OPPONENT_SPEC_FORMS, parseOpponentSpecs } from '../external-eval/opponent-specs';
import { CliFailure, cliExternalEvaluationContext, withPlatform } from '../context';
import { printJsonOr } from '../output';
import { signCheckpointAfterRun } from '@recon/audit';

const int = (min: number) => (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min)
    throw new InvalidArgumentError(`expected an integer ≥ ${min}, got '${value}'`);
  return n;
};
const nonNegative = (value: string) => {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError(`expected a number ≥ 0, got '${value}'`);
  return n;
};

interface EvalCliOptions {
  policy: string;
  model: string;
  suite: string;
  data: string;
  limit?: number;
  trials: number;
  matches: number;
  opponents: string;
  invalidPolicy: 'forfeit' | 'abnormal' | 'reask';
  reasks: number;
  temperature: number;
  reconEvalTemperature: number;
  maxTokens: number;
  concurrency: number;
  retries: number;
  timeoutMs: number;
  backoffMs: number;
  apiKeyEnv?: string;
  seed: number;
  evalId?: string;
  json?: boolean;
}

/** The Recon-Eval CSV of a data directory, checked before anything is recorded. */
function reconEvalFile(dir: string): string {
  const path = resolve(dir);
  if (!existsSync(path) || !statSync(path).isDirectory())
    throw new CliFailure(
      `--data ${dir}: no such directory (the Recon data directory holding eval_dataset.csv)`,
      2,
    );
  const file = join(path, 'eval_dataset.csv');
  if (!existsSync(file)) throw new CliFailure(`--data ${dir}: no eval_dataset.csv in ${path}`, 2);
  return file;
}

/**
 * `recon eval --policy openai:<url> --model <name>`: evaluates an OpenAI-compatible model on Recon-Eval and
 * the games into a stream of its own, every request and response an event.
 */
export function evalCommand(): Command {
  return new Command('eval')
    .description(
      'evaluate an OpenAI-compatible model (vLLM, llama.cpp, Ollama, recon serve) on the suites; every request an event',
    )
    .requiredOption('--policy <spec>', 'openai:<base-url>, e.g. openai:http://127.0.0.1:8000/v1')
    .requiredOption('--model <name>', 'the model name sent with every request')
    .option(
      '--suite <names>',
      'comma-separated: recon-eval, complete-info, gtbench',
      'recon-eval,complete-info,gtbench',
    )
    .option('--data <dir>', 'Recon data directory (eval_dataset.csv) for recon-eval', '../shared/recon-data')
    .option('--limit <n>', 'recon-eval: n items, a seeded draw stratified by category (--seed)', int(1))
    .option('--trials <n>', 'complete-info: self-play trials per game', int(1), 20)
    .option('--matches <n>', 'gtbench: matches per game and opponent', int(1), 10)
    .option(
      '--opponents <specs>',
      `gtbench opponents, comma-separated, as evaluation.gtbench.opponents of a config: ${OPPONENT_SPEC_FORMS}; ` +
        'an LLM or checkpoint takes its other settings as &key=value after the model, #key=value&… after the checkpoint ' +
        '(e.g. openai:https://api.openai.com/v1#gpt-4o-mini&apiKeyEnv=OPENAI_API_KEY); every LLM request is recorded',
      'random,mcts',
    )
    .addOption(
      new Option(
        '--invalid-policy <policy>',
        'gtbench: an unparseable move ends the match (abnormal), forfeits, or is re-asked 3 times',
      )
        .choices(['abnormal', 'forfeit', 'reask'])
        .default('abnormal'),
    )
    .option('--reasks <n>', 'complete-info: re-ask an unparseable reply up to n times', int(0), 5)
    .option('--temperature <t>', 'sampling temperature in games', nonNegative, 0.6)
    .option('--recon-eval-temperature <t>', 'sampling temperature on recon-eval', nonNegative, 0)
    .option('--max-tokens <n>', 'max_tokens of every request', int(1), 6144)
    .option('--concurrency <n>', 'requests in flight at most', int(1), 4)
    .option(
      '--retries <n>',
      'retries of a request after timeouts, network errors, 408/429/5xx, bad bodies',
      int(0),
      3,
    )
    .option('--timeout-ms <ms>', 'timeout of one request', int(1), 120_000)
    .option('--backoff-ms <ms>', 'first retry delay (doubles each retry)', int(0), 500)
    .option('--api-key-env <var>', 'send the bearer token held by this environment variable (never recorded)')
    .option('--seed <n>', 'seed of the game schedules and of the per-request seeds', int(0), 42)
    .option(
      '--eval-id <id>',
      'stream id of the evaluation (default: eval-<model>-<time>-<nonce>); the id of a stopped evaluation, with its settings, resumes it',
    )
    .option('--json', 'print JSON')
    .action(async (options: EvalCliOptions) => {
      let policy, suites, opponents;
      try {
        policy = parsePolicySpec(options.policy);
        suites = parseSuites(options.suite);
        opponents = parseOpponentSpecs(options.opponents);
      } catch (error) {
        if (error instanceof EvalUsageError) throw new CliFailure(error.message, 2);
        throw error;
      }
      const ownStage = opponents.find(
        ({ setting }) => typeof setting !== 'string' && setting.kind === 'checkpoint' && !setting.run,
      );
      if (ownStage)
        throw new CliFailure(
          `--opponents '${ownStage.spec}': an external model has no stages of its own: name the run, checkpoint:<run>/<stage>`,
          2,
        );
      const apiKey = options.apiKeyEnv ? process.env[options.apiKeyEnv] : undefined;
      if (options.apiKeyEnv && !apiKey)
        throw new CliFailure(`--api-key-env ${options.apiKeyEnv}: the variable is not set`, 2);
      const evalFile = suites.includes('recon-eval') ? reconEvalFile(options.data) : undefined;
      const evalId =
        options.evalId ?? defaultEvalId(options.model, new Date(), randomBytes(3).toString('hex'));
      await withPlatform(async (platform, signal) => {
        let results: Record<string, number>;
        try {
          results = await evaluateExternalModel(
            platform,
            {
              evalId,
              model: {
                baseUrl: policy.baseUrl,
                model: options.model,
                apiKey,
                concurrency: options.concurrency,
                retries: options.retries,
                timeoutMs: options.timeoutMs,
                minBackoffMs: options.backoffMs,
              },
              suites,
              seed: options.seed,
              maxTokens: options.maxTokens,
              reconEval: evalFile
                ? { file: evalFile, limit: options.limit, temperature: options.reconEvalTemperature }
                : undefined,
              completeInfo: {
                trials: options.trials,
                temperature: options.temperature,
                reasks: options.reasks,
              },
              gtbench: {
                matches: options.matches,
                temperature: options.temperature,
                opponents: opponents.map(({ setting }) => setting),
                invalidPolicy: options.invalidPolicy,
                reasks: 3,
              },
            },
            cliExternalEvaluationContext(signal, options),
          );
        } catch (error) {
          if (error instanceof ExternalEvaluationConflictError) throw new CliFailure(error.message, 1);
          if (error instanceof OpponentSettingError)
            throw new CliFailure(`--opponents '${opponents[error.index].spec}': ${error.reason}`, 2);
          if (error instanceof WrongExpectedVersionError && error.streamId === evalId)
            throw new CliFailure(`--eval-id ${evalId}: that stream already has events; choose another id`, 2);
          if (signal.aborted)
            throw new CliFailure(`evaluation ${evalId} interrupted (recorded as run.failed)`, 130);
          if (error instanceof ExternalModelError)
            throw new CliFailure(`evaluation ${evalId} failed: ${error.message} (recorded as run.failed)`);
          throw error;
        } finally {
          // Like run, resume, fork and demo: the evaluation's events are covered by a signed checkpoint,
          // whether it completed, failed or was interrupted (all of them are recorded).
          await signCheckpointAfterRun(platform);
        }
        const events = await platform.eventStore.streamVersion(evalId);
        printJsonOr(
          { evalId, events, results },
          () =>
            [
              `evaluation ${evalId}: ${options.model} at ${policy.baseUrl}, ${events} events`,
              ...headlines(results).map(([key, value]) => `  ${key}: ${value}`),
              `report: recon report ${evalId}; audit: recon audit ${evalId}`,
            ].join('\n'),
          options,
        );
      });
    });
}

/** The overall numbers of each suite, for the summary printed at the end. */
function headlines(results: Record<string, number>): Array<[string, string]> {
  return Object.entries(headlineResults(results))
    .filter(([key]) => !/\.(low|high)$/.test(key))
    .map(([key, value]) => [key, Number.isInteger(value) ? String(value) : value.toFixed(3)]);
}
