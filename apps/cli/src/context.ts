import { loadRewardPlugins } from '@recon/reward-sdk';
import { hostname, userInfo } from 'node:os';
import { codeVersion } from '@recon/eventlog';
import { openPlatform, type Platform } from '@recon/persistence';
import type { Producer } from '@recon/contracts';
import type { ExternalEvaluationContext } from './external-eval/evaluate-external-model';

export { codeVersion };

export function cliProducer(): Producer {
  return { service: 'api', version: codeVersion(), instance: `${hostname()}:${process.pid}` };
}

/**
 * Runs a command body with the platform open, and always closes it (stopping an embedded server we own).
 * Ctrl-C aborts the signal given to the body; a body that does not finish soon after is cut short.
 */
export async function withPlatform<T>(
  body: (platform: Platform, signal: AbortSignal) => Promise<T>,
  options: { migrations?: 'auto' | 'check' } = {},
): Promise<T> {
  const platform = await openPlatform({ migrations: options.migrations });
  const controller = new AbortController();
  const onSignal = () => {
    controller.abort();
    setTimeout(() => void platform.close().finally(() => process.exit(130)), 5000).unref();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    return await body(platform, controller.signal);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await platform.close();
  }
}

/** A failure the CLI reports as a message and a non-zero exit code, without a stack trace. */
export class CliFailure extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = 'CliFailure';
  }
}

/** `--reward-plugin <module>` (repeatable): reward plug-ins the embedded reward service loads. */
export const REWARD_PLUGIN_FLAGS = '--reward-plugin <module>';
export const REWARD_PLUGIN_HELP =
  'also serve the rewards a compiled module exports (defineReward), e.g. dist/services/reward-concise/src; repeatable';
export const collectRepeatable = (value: string, all: string[]): string[] => [...all, value];

/** Loads the plug-ins once up front so a bad one is a usage error naming it, before anything starts. */
export function checkRewardPlugins(specs: string[]): string[] {
  try {
    loadRewardPlugins(specs);
  } catch (error) {
    throw new CliFailure((error as Error).message, 2);
  }
  return specs;
}

/** Who and what an external evaluation started from the CLI records, with a line on stderr per finished suite. */
export function cliExternalEvaluationContext(
  signal: AbortSignal,
  options: { json?: boolean },
): ExternalEvaluationContext {
  return {
    requestedBy: userInfo().username,
    codeVersion: codeVersion(),
    signal,
    onProgress: (suite, done, total) => {
      if (done === total && !options.json) process.stderr.write(`${suite}: ${total} done\n`);
    },
  };
}
