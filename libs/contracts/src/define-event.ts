import { z } from 'zod';

export const SERVICES = ['api', 'data', 'training', 'rollout', 'reward', 'evaluation'] as const;
export type ServiceName = (typeof SERVICES)[number];

/**
 * One event type at one schema version. A payload schema, once released, is never edited in place:
 * a change is a new version with its own definition, so every recorded event stays valid forever.
 * Payloads must be a deterministic function of the run's config, seeds and inputs (replay compares
 * payload hashes); wall-clock observations such as durations belong in the envelope's `meta`.
 */
export interface EventDefinition<T extends string = string, S extends z.ZodType = z.ZodType> {
  readonly type: T;
  readonly version: number;
  readonly owner: ServiceName;
  readonly description: string;
  readonly payload: S;
}

export function defineEvent<T extends string, S extends z.ZodType>(
  definition: EventDefinition<T, S>,
): EventDefinition<T, S> {
  return Object.freeze(definition);
}
