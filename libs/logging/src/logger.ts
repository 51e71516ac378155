import pino, { type DestinationStream, type Level, type LevelWithSilent, type Logger } from 'pino';
import pretty from 'pino-pretty';
import { readEnvironment } from '@recon/config';

export interface LoggerOptions {
  /** The least severe level written (default: RECON_LOG_LEVEL, else `info`). */
  level?: LevelWithSilent;
  /** Where the lines go (default: stderr, as RECON_LOG_FORMAT says). */
  destination?: DestinationStream;
}

/** Stderr, written synchronously (a process that exits right after logging loses no line). */
function stderr(): DestinationStream {
  const format = readEnvironment('RECON_LOG_FORMAT') ?? (process.stderr.isTTY ? 'pretty' : 'json');
  return format === 'pretty'
    ? pretty({
        destination: 2,
        sync: true,
        singleLine: true,
        ignore: 'pid,hostname',
        translateTime: 'SYS:HH:MM:ss.l',
      })
    : pino.destination({ fd: 2, sync: true });
}

/** The service a line comes from (`recon service <name>` sets it), read when the line is written. */
function service(): { service?: string } {
  const name = readEnvironment('RECON_SERVICE_NAME');
  return name ? { service: name } : {};
}

/** A pino logger named `recon`: JSON lines with level, time, pid, host and the service. */
export function createLogger(options: LoggerOptions = {}): Logger {
  return pino(
    { name: 'recon', level: options.level ?? readEnvironment('RECON_LOG_LEVEL') ?? 'info', mixin: service },
    options.destination ?? stderr(),
  );
}

let root: Logger | null = null;

/**
 * The process's logger, made on first use. Code that may run while an event is handled logs through
 * `logger()` instead, which adds the event's ids; this one is for lines about the process or about a shared
 * resource (a pool, a listener), which would otherwise carry whichever run first used that resource.
 */
export function rootLogger(): Logger {
  return (root ??= createLogger());
}

/** Replaces the process's logger (tests capture lines through it); null makes the next use create one. */
export function setRootLogger(logger: Logger | null): void {
  root = logger;
}

/** The more severe of two levels: a child logger that should never be chattier than `floor`. */
export function atLeast(level: string, floor: Level): string {
  return (pino.levels.values[level] ?? 0) >= pino.levels.values[floor] ? level : floor;
}

export type { Logger } from 'pino';
