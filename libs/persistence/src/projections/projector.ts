import type { EntityManager } from 'typeorm';
import type { RecordedEvent } from '@recon/eventlog';

export interface ReadModelTable {
  name: string;
  orderBy: string;
  perRun?: boolean;
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
  /** Owned tables with the ORDER BY that makes their digest deterministic. */
  readonly tables: ReadonlyArray<ReadModelTable>;
  /** Types delivered to `apply`, decoded; empty for a projector that works only in SQL. */
  readonly eventTypes: readonly string[];
  apply(manager: EntityManager, events: RecordedEvent[]): Promise<void>;
  applyRange(manager: EntityManager, range: LogRange): Promise<void>;
  /** Forgets any in-memory state (caches) after the tables were changed under it. */
  reset(): void;
}

/** Inserts rows through one statement: the rows travel as a JSON array and are expanded by PostgreSQL. */
export async function insertRows(
  manager: EntityManager,
  table: string,
  columns: ReadonlyArray<[name: string, type: string]>,
  rows: Array<Record<string, unknown>>,
): Promise<void> {
  if (rows.length === 0) return;
  const names = columns.map(([name]) => name).join(', ');
  const definitions = columns.map(([name, type]) => `${name} ${type}`).join(', ');
  await manager.query(
    `INSERT INTO ${table} (${names}) SELECT ${names} FROM jsonb_to_recordset($1::jsonb) AS x(${definitions})`,
    [JSON.stringify(rows)],
  );
}
