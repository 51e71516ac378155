import { RunEntity } from './run.entity';
import { MetricPointEntity } from './metric-point.entity';
import { RolloutEntity } from './rollout.entity';
import { RewardEntity } from './reward.entity';
import { EvalResultEntity } from './eval-result.entity';
import { GameMatchEntity } from './game-match.entity';
import { ProjectionCheckpointEntity } from './projection-checkpoint.entity';
import { ApiTokenEntity } from './api-token.entity';
import type { EntityClass } from './table-definition';

export * from './run.entity';
export * from './metric-point.entity';
export * from './rollout.entity';
export * from './reward.entity';
export * from './eval-result.entity';
export * from './game-match.entity';
export * from './projection-checkpoint.entity';
export * from './api-token.entity';
export * from './table-definition';

/**
 * Every read-model table, and the projectors' checkpoints, one entity each: its decorators are the one
 * declaration of the table's columns in code (the projectors write from them; read-model-drift.spec checks
 * them against the migrated database). The migrations stay the append-only history that creates them.
 */
export const ENTITIES: EntityClass[] = [
  RunEntity,
  MetricPointEntity,
  RolloutEntity,
  RewardEntity,
  EvalResultEntity,
  GameMatchEntity,
  ProjectionCheckpointEntity,
  ApiTokenEntity,
];
