import { AsyncLocalStorage } from 'node:async_hooks';
import type { Logger } from 'pino';
import { rootLogger } from './logger';

/** What a log line needs of an event (a recorded event's envelope has it all). */
export interface LoggedEvent {
  streamId: string;
  eventId: string;
  type: string;
  causationId?: string | null;
  correlationId?: string | null;
}

/** The fields that tie a line to a run and its causal chain: run id, event id and type, causation, correlation. */
export function eventLogFields(event: Partial<LoggedEvent>): Record<string, unknown> {
  return {
    runId: event.streamId,
    eventId: event.eventId,
    eventType: event.type,
    causationId: event.causationId,
    correlationId: event.correlationId,
  };
}

/** A child of the process's logger bound to an event, for a line about it written outside its handler. */
export function eventLogger(event: Partial<LoggedEvent>, bindings: Record<string, unknown> = {}): Logger {
  return rootLogger().child({ ...bindings, ...eventLogFields(event) });
}

/** The event being handled: its logger is made on the first line (most events are handled without one). */
interface EventScope {
  event: LoggedEvent;
  bindings: Record<string, unknown>;
  logger?: Logger;
}

const scope = new AsyncLocalStorage<EventScope>();

/**
 * Runs `handle` with the event in scope, so every line `logger()` writes during it, in whatever module,
 * carries the event's run id and correlation ids (and `bindings`, such as the consumer group).
 */
export function withEventLogger<T>(
  event: LoggedEvent,
  bindings: Record<string, unknown>,
  handle: () => T,
): T {
  return scope.run({ event, bindings }, handle);
}

/** The logger for the code running now: the handled event's child logger inside withEventLogger, else the process's. */
export function logger(): Logger {
  const current = scope.getStore();
  if (!current) return rootLogger();
  return (current.logger ??= eventLogger(current.event, current.bindings));
}
