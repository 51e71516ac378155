import type { EntityManager } from 'typeorm';
import type { EventType, PayloadOf } from '@recon/contracts';
import { EvalResultEntity, GameMatchEntity, RewardEntity, RolloutEntity } from '../entities';
import { tableDefinition, type EntityClass } from '../entities/table-definition';
import {
  rangeCondition,
  readModelTable,
  type LogRange,
  type Projector,
  type ReadModelTable,
} from './projector';

/** The columns every row-per-event table takes from the event rather than from its payload. */
const FROM_EVENT = { runId: 'stream_id', globalPosition: 'global_position' } as const;

/** Entity properties that are neither taken from the event nor a field of T's payload (never, when it fits). */
type NotInPayload<E, T extends EventType> = Exclude<keyof E, keyof typeof FROM_EVENT | keyof PayloadOf<T>>;

/**
 * A read model with one row per event of one type, keyed by (run_id, global_position), projected inside
 * PostgreSQL with INSERT ... SELECT over the log (the payloads were validated when they were appended).
 * Its entity declares the columns: each property other than runId and globalPosition is the payload field
 * of that name (checked by the compiler), read with the column's declared type. json_to_record parses each
 * payload's stored json text once into typed fields (measured about 3.5x faster than casting to jsonb and
 * extracting field by field).
 */
export class RowPerEventProjector<E extends object, T extends EventType> implements Projector {
  readonly tables: readonly ReadModelTable[];
  private readonly entity: EntityClass<E>;

  constructor(
    readonly name: string,
    entity: EntityClass<E> &
      ([NotInPayload<E, T>] extends [never] ? unknown : { notInPayload: NotInPayload<E, T> }),
    private readonly eventType: T,
  ) {
    this.entity = entity;
    this.tables = [readModelTable(this.entity)];
  }

  readonly eventTypes: readonly string[] = [];

  async apply(): Promise<void> {}

  async applyRange(manager: EntityManager, range: LogRange): Promise<void> {
    const condition = rangeCondition(range);
    const { name: table, columns } = tableDefinition(this.entity);
    const fromEvent: Record<string, string | undefined> = FROM_EVENT;
    const fromPayload = columns.filter((c) => fromEvent[c.property] === undefined);
    const names = columns.map((c) => c.name).join(', ');
    const values = columns
      .map((c) => (fromEvent[c.property] ? `e.${fromEvent[c.property]}` : `x."${c.property}"`))
      .join(', ');
    const record = fromPayload.map((c) => `"${c.property}" ${c.type}`).join(', ');
    await manager.query(
      `INSERT INTO ${table} (${names})
       SELECT ${values}
         FROM recon_events e, json_to_record(e.payload) AS x(${record})
        WHERE ${condition.sql} AND e.type = $${condition.params.length + 1} AND e.tombstoned_by IS NULL
        ORDER BY e.global_position`,
      [...condition.params, this.eventType],
    );
  }

  reset(): void {}
}

export const rolloutsProjector = () =>
  new RowPerEventProjector('rollouts', RolloutEntity, 'rollout.generated');

export const rewardsProjector = () => new RowPerEventProjector('rewards', RewardEntity, 'reward.scored');

export const evalResultsProjector = () =>
  new RowPerEventProjector('eval-results', EvalResultEntity, 'evaluation.item.scored');

export const gameMatchesProjector = () => new RowPerEventProjector('games', GameMatchEntity, 'game.finished');
