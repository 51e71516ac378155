import 'reflect-metadata';
import { Command, CommanderError } from 'commander';
import { ContractViolationError } from '@recon/contracts';
import { PendingMigrationsError } from '@recon/persistence';
import { CliFailure } from './context';
import { migrateCommand } from './commands/migrate';
import { runsCommand } from './commands/runs';
import { eventsCommand } from './commands/events';
import { auditCommand } from './commands/audit';
import { replayCommand } from './commands/replay';
import { demoCommand } from './commands/demo';
import { tokenCommand } from './commands/token';
import { apiCommand } from './commands/api';
import { deleteCommand } from './commands/delete';
import { forkCommand, reportCommand, resumeCommand, runCommand } from './commands/run';
import { serviceCommand } from './commands/service';
import { upCommand } from './commands/up';
import { evalCommand } from './commands/eval';
import { serveCommand } from './commands/serve';
import { datasetCommand } from '../../../data/src/cli';

export function buildProgram(): Command {
  const program = new Command('recon')
    .description('Recon: post-train and evaluate models for economic reasoning; every step an audited event')
    .showHelpAfterError()
    .exitOverride();
  for (const command of [
    runCommand(),
    resumeCommand(),
    forkCommand(),
    reportCommand(),
    migrateCommand(),
    runsCommand(),
    eventsCommand(),
    auditCommand(),
    replayCommand(),
    demoCommand(),
    tokenCommand(),
    apiCommand(),
    serviceCommand(),
    upCommand(),
    deleteCommand(),
    datasetCommand(),
    evalCommand(),
    serveCommand(),
  ]) {
    program.addCommand(command.exitOverride());
  }
  return program;
}

export async function main(argv: string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (error) {
    // Commander has printed what was wrong; bad usage exits 2 (help and --version exit 0).
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2;
    const known =
      error instanceof CliFailure ||
      error instanceof ContractViolationError ||
      error instanceof PendingMigrationsError;
    process.stderr.write(
      `recon: ${known ? (error as Error).message : ((error as Error).stack ?? String(error))}\n`,
    );
    return error instanceof CliFailure ? error.exitCode : 1;
  }
}

/**
 * Exits once stdout and stderr have been handed to the OS: process.exit() drops what a pipe has not taken
 * yet, so `recon events --json | slow-reader` would get only the first 64 KiB.
 */
export function exitWhenFlushed(code: number): void {
  let pending = 2;
  const flushed = () => {
    pending -= 1;
    if (pending === 0) process.exit(code);
  };
  process.stdout.write('', flushed);
  process.stderr.write('', flushed);
}

if (require.main === module) {
  void main(process.argv).then(exitWhenFlushed);
}
