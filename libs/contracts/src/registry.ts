import { z } from 'zod';
import type { EventDefinition } from './define-event';
import { ContractViolationError, UnknownEventTypeError } from './errors';
import { runEvents } from './events/run';
import { dataEvents } from './events/data';
import { dataQualityEvents } from './events/data-quality';
import { trainingEvents } from './events/training';
import { rolloutEvents } from './events/rollout';
import { rewardEvents } from './events/reward';
import { evaluationEvents } from './events/evaluation';
import { gameEvents } from './events/games';
import { accessEvents } from './events/access';
import { externalEvents } from './events/external';

/** Every event definition of the platform; the one list every boundary validates against. */
export const ALL_EVENTS = [
  ...runEvents,
  ...dataEvents,
  ...dataQualityEvents,
  ...trainingEvents,
  ...rolloutEvents,
  ...rewardEvents,
  ...evaluationEvents,
  ...gameEvents,
  ...accessEvents,
  ...externalEvents,
] as const;

type AnyDefinition = (typeof ALL_EVENTS)[number];
export type EventType = AnyDefinition['type'];
/**
 * The payload of an event of type T as recorded: the union of the payloads of every schema version of T
 * (reads do not upcast an older version to the latest; each event is validated against its own version).
 */
export type PayloadOf<T extends EventType> = z.infer<Extract<AnyDefinition, { type: T }>['payload']>;

const byKey = new Map<string, EventDefinition>();
const latest = new Map<string, EventDefinition>();
for (const def of ALL_EVENTS as readonly EventDefinition[]) {
  const key = `${def.type}@${def.version}`;
  if (byKey.has(key)) throw new Error(`event ${key} is declared twice`);
  byKey.set(key, def);
  const current = latest.get(def.type);
  if (!current || current.version < def.version) latest.set(def.type, def);
}

export function isKnownEventType(type: string): type is EventType {
  return latest.has(type);
}

export function eventDefinition(type: string, version?: number, where?: string): EventDefinition {
  const def = version === undefined ? latest.get(type) : byKey.get(`${type}@${version}`);
  if (!def) throw new UnknownEventTypeError(type, latest.has(type) ? version : undefined, where);
  return def;
}

export function latestVersion(type: string): number {
  return eventDefinition(type).version;
}

export function listEventDefinitions(): readonly EventDefinition[] {
  return [...byKey.values()];
}

/** Validates a payload against its declared schema; returns the parsed payload or throws naming the field. */
export function validatePayload<T extends EventType>(
  type: T,
  version: number,
  payload: unknown,
  where?: string,
): PayloadOf<T> {
  const def = eventDefinition(type, version, where);
  const result = def.payload.safeParse(payload);
  if (!result.success) {
    const issue = result.error.issues[0];
    const field = issue.path.map(String).join('.') || '(payload)';
    throw new ContractViolationError(type, field, issue.message, where);
  }
  return result.data as PayloadOf<T>;
}
