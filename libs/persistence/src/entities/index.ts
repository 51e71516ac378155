import { RunEntity } from './run.entity';
import { MetricPointEntity } from './metric-point.entity';
import { RolloutEntity } from './rollout.entity';
import { RewardEntity } from './reward.entity';
import { EvalResultEntity } from './eval-result.entity';
import { GameMatchEntity } from './game-match.entity';
import { ProjectionCheckpointEntity } from './projection-checkpoint.entity';

export * from './run.entity';
export * from './metric-point.entity';
export * from './rollout.entity';
export * from './reward.entity';
export * from './eval-result.entity';
export * from './game-match.entity';
export * from './projection-checkpoint.entity';

export const ENTITIES = [
  RunEntity,
  MetricPointEntity,
  RolloutEntity,
  RewardEntity,
  EvalResultEntity,
  GameMatchEntity,
  ProjectionCheckpointEntity,
];
