import type { EntityManager } from 'typeorm';
import type { RecordedEvent } from '@recon/eventlog';
import { primaryKeyOrder, tableDefinition, type EntityClass } from '../entities/table-definition';

/** A table a projector owns: its entity (the table's one declaration), name and digest order. */
export interface ReadModelTable {
  entity: EntityClass;
  name: string;
  /** Its primary key: the ORDER BY that makes its digest deterministic. */
  orderBy: string;
  perRun?: boolean;
}

/** The read-model table an entity declares; rows keyed by `run_id` unless `perRun: false`. */
export function readModelTable(entity: EntityClass, options: { perRun?: false } = {}): ReadModelTable {
  const definition = tableDefinition(entity);
  return { entity, name: definition.name, orderBy: primaryKeyOrder(definition), ...options };
}

/** A slice of the log: events with after < global_position <= upTo, optionally of one run only. */
export interface LogRange {
  after: number;
  upTo: number;
  runId?: string;
}

/** SQL condition selecting a range's rows of recon_events (alias e); parameters start at $1. */
export function rangeCondition(range: LogRange): { sql: string; params: unknown[] } {
  return range.runId === undefined
    ? { sql: 'e.global_position > $1 AND e.global_position <= $2', params: [range.after, range.upTo] }
    : {
        sql: 'e.global_position > $1 AND e.global_position <= $2 AND e.stream_id = $3',
        params: [range.after, range.upTo, range.runId],
      };
}

/**
 * A read model kept from the log. A table it owns holds rows keyed by `run_id` unless marked `perRun: false`
 * (a platform-wide table, such as API tokens, rebuilt only with every read model). A projector
 * works in PostgreSQL over a range of the log (`applyRange`: the events never travel to this process), or
 * on decoded events in this process (`apply`, for the types in `eventTypes`), or both; the runner calls
 * both inside one transaction.
 */
export interface Projector {
  readonly name: string;
  /** Owned tables (see readModelTable). */
  readonly tables: ReadonlyArray<ReadModelTable>;
  /** Types delivered to `apply`, decoded; empty for a projector that works only in SQL. */
  readonly eventTypes: readonly string[];
  apply(manager: EntityManager, events: RecordedEvent[]): Promise<void>;
  applyRange(manager: EntityManager, range: LogRange): Promise<void>;
  /** Forgets any in-memory state (caches) after the tables were changed under it. */
  reset(): void;
}

/**
 * Inserts rows of an entity's table through one statement: every column the entity declares, the rows
 * travelling as one JSON array (keyed by property) that PostgreSQL expands with the declared types.
 */
export async function insertRows<E extends object>(
  manager: EntityManager,
  entity: EntityClass<E>,
  rows: readonly E[],
): Promise<void> {
  if (rows.length === 0) return;
  const { name, columns } = tableDefinition(entity);
  const names = columns.map((c) => c.name).join(', ');
  const fields = columns.map((c) => `x."${c.property}"`).join(', ');
  const record = columns.map((c) => `"${c.property}" ${c.type}`).join(', ');
  await manager.query(
    `INSERT INTO ${name} (${names}) SELECT ${fields} FROM jsonb_to_recordset($1::jsonb) AS x(${record})`,
    [JSON.stringify(rows)],
  );
}
