import { RunEntity } from './run.entity';
import { MetricPointEntity } from './metric-point.entity';
import { RolloutEntity } from './rollout.entity';
import { RewardEntity } from './reward.entity';
import { EvalResultEntity } from './eval-result.entity';
import { GameMatchEntity } from './game-match.entity';
import { ProjectionCheckpointEntity } from './projection-checkpoint.entity';

export {
  RunEntity,
  MetricPointEntity,
  RolloutEntity,
  RewardEntity,
  EvalResultEntity,
  GameMatchEntity,
  ProjectionCheckpointEntity,
};

export const ENTITIES = [
  RunEntity,
  MetricPointEntity,
  RolloutEntity,
  RewardEntity,
  EvalResultEntity,
  GameMatchEntity,
  ProjectionCheckpointEntity,
];
