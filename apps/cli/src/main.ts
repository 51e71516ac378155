import 'reflect-metadata';
import { Command, CommanderError } from 'commander';
import { debugFromEnvironment, describeFailure } from './errors';
import { migrateCommand } from './commands/migrate';
import { runsCommand } from './commands/runs';
import { eventsCommand } from './commands/events';
import { auditCommand } from './commands/audit';
import { replayCommand } from './commands/replay';
import { demoCommand } from './commands/demo';
import { tokenCommand } from './commands/token';
import { apiCommand } from './commands/api';
import { cancelCommand } from './commands/cancel';
import { deleteCommand } from './commands/delete';
import { forkCommand, reportCommand, resumeCommand, runCommand } from './commands/run';
import { serviceCommand } from './commands/service';
import { upCommand } from './commands/up';
import { evalCommand } from './commands/eval';
import { serveCommand } from './commands/serve';
import { exportCommand } from './commands/export';
import { datasetCommand } from '@recon/data';

export function buildProgram(): Command {
  const program = new Command('recon')
    .description('Recon: post-train and evaluate models for economic reasoning; every step an audited event')
    .option('--debug', 'print the stack trace of a failure (as RECON_DEBUG=1 does)')
    .showHelpAfterError();
  for (const command of [
    runCommand(),
    resumeCommand(),
    forkCommand(),
    cancelCommand(),
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
    exportCommand(),
  ]) {
    program.addCommand(command);
  }
  // Commander exits by itself (code 1) on bad usage unless told otherwise: tell every command, nested ones too.
  const overrideExit = (command: Command): void => {
    command.exitOverride();
    command.commands.forEach(overrideExit);
  };
  overrideExit(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (error) {
    // Commander has printed what was wrong; bad usage exits 2 (help and --version exit 0).
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2;
    const failure = describeFailure(error, program.opts().debug === true || debugFromEnvironment());
    process.stderr.write(failure.text);
    return failure.exitCode;
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
