import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { ExternalSuite } from '@recon/contracts';
import { ConfigError, configKeyLine, type ExperimentConfig } from '@recon/experiment';
import type { ExternalEvaluationRequest } from './evaluate-external-model';

type OpenAiPolicy = Extract<ExperimentConfig['policy'], { kind: 'openai' }>;

/** The first backoff delay of a retried request, as `recon eval --backoff-ms` defaults it. */
const MIN_BACKOFF_MS = 500;

/**
 * What `recon run` does with a config whose policy is an OpenAI-compatible model: there is nothing to train,
 * so it is evaluated the way `recon eval` evaluates one, on the suites the config names — recon-eval on
 * `datasets.recon`'s eval CSV, complete-information self-play if `evaluation.completeInformation` is given,
 * GTBench if `evaluation.gtbench` is. A key that asks for what an external model cannot do (training,
 * generated held-out problems, per-suite completion budgets, constrained decoding) is refused, naming it and its line.
 */
export function externalEvaluationFromConfig(
  config: ExperimentConfig & { policy: OpenAiPolicy },
  file: string,
  evalId: string,
  env: NodeJS.ProcessEnv = process.env,
): ExternalEvaluationRequest {
  const refuse = (key: string, reason: string): never => {
    throw new ConfigError(file, configKeyLine(file, key), key, reason);
  };
  const { policy, evaluation } = config;
  for (const stage of ['sft', 'grpo'] as const)
    if (config[stage])
      refuse(
        stage,
        `policy.kind openai is an external model: it is evaluated, never trained; remove ${stage} (or use policy.kind builtin to train)`,
      );
  if (config.datasets.curriculum)
    refuse(
      'datasets.curriculum',
      'generated problems are training data and a held-out set for a builtin policy; an openai policy is evaluated on datasets.recon (recon-eval) and the games (evaluation.completeInformation, evaluation.gtbench), or use `recon eval --suite complete-info,gtbench`',
    );
  const protocol = new URL(policy.baseUrl).protocol;
  if (protocol !== 'http:' && protocol !== 'https:')
    refuse('policy.baseUrl', `the URL must be http or https, not ${protocol}`);
  for (const key of ['completeInformation', 'gtbench'] as const) {
    const budget = evaluation[key]?.maxNewTokens;
    if (budget !== undefined && budget !== evaluation.maxNewTokens)
      refuse(
        `evaluation.${key}.maxNewTokens`,
        `an openai policy gets one completion budget for every request, evaluation.maxNewTokens (${evaluation.maxNewTokens}); remove this key or set it to that`,
      );
    const decoding = evaluation[key]?.decoding;
    if (decoding !== undefined && decoding !== 'free')
      refuse(
        `evaluation.${key}.decoding`,
        `constrained decoding masks the builtin policy's own logits; an openai policy's replies are free-form only: remove this key or set it to free`,
      );
  }
  const apiKey = policy.apiKeyEnv ? env[policy.apiKeyEnv] : undefined;
  if (policy.apiKeyEnv && !apiKey)
    refuse('policy.apiKeyEnv', `the environment variable ${policy.apiKeyEnv} is not set`);

  const suites: ExternalSuite[] = [];
  let reconEval: ExternalEvaluationRequest['reconEval'];
  const recon = config.datasets.recon;
  if (recon) {
    const csv = join(recon.path, recon.eval);
    if (!existsSync(csv))
      refuse('datasets.recon.path', `no Recon-Eval file ${csv} (datasets.recon.eval: ${recon.eval})`);
    suites.push('recon-eval');
    reconEval = {
      file: csv,
      limit: evaluation.reconEval?.items ?? evaluation.heldOut?.items,
      temperature: evaluation.reconEval?.temperature ?? evaluation.heldOut?.temperature ?? 0,
    };
  }
  const completeInformation = evaluation.completeInformation;
  if (completeInformation) suites.push('complete-info');
  const gtbench = evaluation.gtbench;
  if (gtbench) suites.push('gtbench');
  gtbench?.opponents.forEach((opponent, i) => {
    if (typeof opponent !== 'string' && opponent.kind === 'checkpoint' && opponent.run === undefined)
      refuse(
        `evaluation.gtbench.opponents`,
        `opponent ${i} is a checkpoint of this run's ${opponent.stage} stage, but an openai policy has no stages: name the run it comes from (run: <run id>)`,
      );
  });

  return {
    evalId,
    model: {
      baseUrl: policy.baseUrl.replace(/\/+$/, ''),
      model: policy.model,
      apiKey,
      concurrency: policy.concurrency,
      retries: policy.retries,
      timeoutMs: policy.timeoutMs,
      minBackoffMs: MIN_BACKOFF_MS,
    },
    suites,
    seed: config.seed,
    maxTokens: evaluation.maxNewTokens,
    reconEval,
    completeInfo: {
      trials: completeInformation?.trials ?? 20,
      temperature: completeInformation?.temperature ?? 0.6,
      reasks: completeInformation?.reasks ?? 5,
    },
    gtbench: {
      matches: gtbench?.matches ?? 10,
      temperature: gtbench?.temperature ?? 0.6,
      opponents: gtbench?.opponents ?? ['random', 'mcts'],
      ...(gtbench?.games ? { games: [...gtbench.games] } : {}),
      invalidPolicy: gtbench?.invalidPolicy ?? 'abnormal',
      reasks: gtbench?.reasks ?? 3,
    },
  };
}
