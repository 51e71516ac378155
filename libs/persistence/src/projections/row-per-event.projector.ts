import type { EntityManager } from 'typeorm';
import type { EventType } from '@recon/contracts';
import { rangeCondition, type LogRange, type Projector } from './projector';

/** A column of a row-per-event read model: [column, payload field, SQL type]. */
type Column = [name: string, field: string, type: string];

/**
 * A read model with one row per event of one type, keyed by (run_id, global_position), projected inside
 * PostgreSQL with INSERT ... SELECT over the log (the payloads were validated when they were appended).
 * json_to_record parses each payload's stored json text once into typed fields (measured about 3.5x faster
 * than casting to jsonb and extracting field by field).
 */
export class RowPerEventProjector implements Projector {
  readonly tables: ReadonlyArray<{ name: string; orderBy: string }>;

  constructor(
    readonly name: string,
    private readonly table: string,
    private readonly eventType: EventType,
    private readonly columns: readonly Column[],
  ) {
    this.tables = [{ name: table, orderBy: 'run_id, global_position' }];
  }

  readonly eventTypes: readonly string[] = [];

  async apply(): Promise<void> {}

  async applyRange(manager: EntityManager, range: LogRange): Promise<void> {
    const condition = rangeCondition(range);
    const names = ['run_id', 'global_position', ...this.columns.map(([name]) => name)].join(', ');
    const fields = this.columns.map(([, field]) => `x."${field}"`).join(', ');
    const record = this.columns.map(([, field, type]) => `"${field}" ${type}`).join(', ');
    await manager.query(
      `INSERT INTO ${this.table} (${names})
       SELECT e.stream_id, e.global_position, ${fields}
         FROM recon_events e, json_to_record(e.payload) AS x(${record})
        WHERE ${condition.sql} AND e.type = $${condition.params.length + 1} AND e.tombstoned_by IS NULL
        ORDER BY e.global_position`,
      [...condition.params, this.eventType],
    );
  }

  reset(): void {}
}

export const rolloutsProjector = () =>
  new RowPerEventProjector('rollouts', 'rollouts', 'rollout.generated', [
    ['rollout_id', 'rolloutId', 'text'],
    ['step', 'step', 'integer'],
    ['prompt_id', 'promptId', 'text'],
    ['group_index', 'groupIndex', 'integer'],
    ['policy_version', 'policyVersion', 'text'],
    ['completion', 'completion', 'text'],
    ['completion_tokens', 'completionTokens', 'integer'],
    ['truncated', 'truncated', 'boolean'],
    ['finish_reason', 'finishReason', 'text'],
  ]);

export const rewardsProjector = () =>
  new RowPerEventProjector('rewards', 'rewards', 'reward.scored', [
    ['rollout_id', 'rolloutId', 'text'],
    ['step', 'step', 'integer'],
    ['reward_id', 'rewardId', 'text'],
    ['reward_version', 'rewardVersion', 'text'],
    ['total', 'total', 'double precision'],
    ['components', 'components', 'jsonb'],
  ]);

export const evalResultsProjector = () =>
  new RowPerEventProjector('eval-results', 'eval_results', 'evaluation.item.scored', [
    ['suite', 'suite', 'text'],
    ['stage', 'stage', 'text'],
    ['item_id', 'itemId', 'text'],
    ['category', 'category', 'text'],
    ['parsed_answer', 'parsedAnswer', 'text'],
    ['gold', 'gold', 'text'],
    ['correct', 'correct', 'boolean'],
    ['score', 'score', 'double precision'],
  ]);

export const gameMatchesProjector = () =>
  new RowPerEventProjector('games', 'game_matches', 'game.finished', [
    ['match_id', 'matchId', 'text'],
    ['game', 'game', 'text'],
    ['suite', 'suite', 'text'],
    ['stage', 'stage', 'text'],
    ['opponent', 'opponent', 'text'],
    ['agent_seat', 'agentSeat', 'integer'],
    ['seed', 'seed', 'bigint'],
    ['returns', 'returns', 'jsonb'],
    ['outcome', 'outcome', 'text'],
    ['status', 'status', 'text'],
    ['pareto_optimal_equilibrium', 'paretoOptimalEquilibrium', 'boolean'],
    ['invalid_count', 'invalidCount', 'integer'],
    ['retries', 'retries', 'integer'],
  ]);
