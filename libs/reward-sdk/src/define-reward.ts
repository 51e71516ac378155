import type { z } from 'zod';

/** What a reward is asked to score: one completion of one prompt, with the dataset row it came from. */
export interface RewardInput<Row> {
  runId: string;
  promptId: string;
  completion: string;
  row: Row;
}

export interface RewardScore {
  total: number;
  /** Named parts of the total; they appear as per-component metrics with no schema change. */
  components: Record<string, number>;
  details?: Record<string, string | number | boolean | null>;
}

/**
 * A reward service's whole definition: id, version, optional config, and the score function. A new reward
 * is this object plus `runRewardWorker` in its own deployable: no other service changes.
 */
export interface RewardDefinition<Row = unknown, Config = undefined> {
  id: string;
  version: string;
  config?: { schema: z.ZodType<Config>; value: unknown };
  score(input: RewardInput<Row>, config: Config): RewardScore;
}

export function defineReward<Row, Config = undefined>(
  definition: RewardDefinition<Row, Config>,
): RewardDefinition<Row, Config> {
  if (!/^[a-z][a-z0-9-]{1,62}$/.test(definition.id)) {
    throw new Error(
      `reward id '${definition.id}': use lower-case letters, digits and dashes (2-63 characters)`,
    );
  }
  if (!/^\d+\.\d+\.\d+$/.test(definition.version)) {
    throw new Error(
      `reward '${definition.id}' version '${definition.version}': expected semantic versioning, e.g. 1.0.0`,
    );
  }
  return definition;
}
