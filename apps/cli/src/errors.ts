import { ContractViolationError } from '@recon/contracts';
import { DatasetImportError } from '@recon/econ';
import {
  BlobCorruptedError,
  BlobNotFoundError,
  ContentDeletionError,
  IdempotencyConflictError,
  WrongExpectedVersionError,
} from '@recon/eventlog';
import { ConfigError, RecordedConfigError } from '@recon/experiment';
import {
  DatabaseUnavailableError,
  EmbeddedPostgresStartError,
  DatasetNotRegisteredError,
  PendingMigrationsError,
} from '@recon/persistence';
import { OpponentSettingError } from '@recon/evaluation';
import { TokenizerFormatError } from '@recon/policy';
import { TokenRejectedError } from '@recon/service-kit';
import { HandlerFailedError, KafkaConfigError } from '@recon/transport';
import { RescoreFailedError } from './run/rescore';
import { RunFollowStoppedError } from './run/watch-run';
import { CliFailure } from './context';

/** Failures whose message already says what is wrong and where: the user's to fix, not a bug. */
const USER_FACING: ReadonlyArray<readonly [abstract new (...args: never[]) => Error, number]> = [
  [ConfigError, 2],
  // A GTBench opponent of the config that cannot play (a checkpoint of no run, an unset key variable).
  [OpponentSettingError, 2],
  [DatasetImportError, 1],
  [RecordedConfigError, 1],
  [ContractViolationError, 1],
  [PendingMigrationsError, 1],
  [DatabaseUnavailableError, 1],
  [EmbeddedPostgresStartError, 1],
  [DatasetNotRegisteredError, 1],
  [BlobNotFoundError, 1],
  [BlobCorruptedError, 1],
  [TokenizerFormatError, 1],
  [WrongExpectedVersionError, 1],
  [IdempotencyConflictError, 1],
  [ContentDeletionError, 1],
  [TokenRejectedError, 1],
  [KafkaConfigError, 1],
  // A service of this process failed on an event: its message names the group, event, run and reason.
  [HandlerFailedError, 1],
  [RescoreFailedError, 1],
  [RunFollowStoppedError, 130],
];

export interface DescribedFailure {
  /** What goes to stderr, ending in a newline. */
  text: string;
  exitCode: number;
}

/** Whether `--debug` or RECON_DEBUG asks for stack traces. */
export function debugFromEnvironment(env: NodeJS.ProcessEnv = process.env): boolean {
  return /^(1|true|yes|on)$/i.test(env.RECON_DEBUG ?? '');
}

/**
 * How the CLI reports a failure. Known failures (bad input, a file that is not there, a run that cannot go
 * on) print one line naming what and where, and exit 1 (2 for usage); anything else is a bug or an
 * unforeseen condition and prints a short message. Stack traces only with `--debug` or RECON_DEBUG=1.
 */
export function describeFailure(error: unknown, debug: boolean): DescribedFailure {
  const known = knownFailure(error);
  const trace = debug ? stackOf(error) : '';
  if (known) return { text: `recon: ${known.message}\n${trace}`, exitCode: known.exitCode };
  const what = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return {
    text:
      `recon: unexpected error: ${what}\n` +
      (debug ? trace : 'recon: run again with --debug (or RECON_DEBUG=1) to see where it happened\n'),
    exitCode: 1,
  };
}

function knownFailure(error: unknown): { message: string; exitCode: number } | null {
  if (error instanceof CliFailure) return { message: error.message, exitCode: error.exitCode };
  const match = USER_FACING.find(([type]) => error instanceof type);
  if (match) return { message: (error as Error).message, exitCode: match[1] };
  const system = systemError(error);
  if (system) return { message: system, exitCode: 1 };
  return null;
}

/** A file-system or network error from Node (ENOENT, EACCES, ECONNREFUSED, …): its path and plain reason. */
function systemError(error: unknown): string | null {
  const { code, syscall, path, message } = (error ?? {}) as NodeJS.ErrnoException;
  if (typeof code !== 'string' || !/^E[A-Z0-9]+$/.test(code) || typeof syscall !== 'string') return null;
  const reason = /^E[A-Z0-9]+: ([^,]+)/.exec(message)?.[1] ?? message;
  return path ? `${path}: ${reason} (${code})` : `${message}`;
}

function stackOf(error: unknown): string {
  if (!(error instanceof Error)) return '';
  const cause = error instanceof HandlerFailedError ? error.reason : error.cause;
  const own = `${error.stack ?? ''}\n`;
  return cause instanceof Error ? `${own}caused by ${cause.stack ?? cause.message}\n` : own;
}
