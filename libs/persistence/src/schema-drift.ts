import type { TableColumn, TableDefinition } from './entities/table-definition';

/** A column as the migrated database has it (see readSchema). */
export interface DatabaseColumn {
  table: string;
  column: string;
  /** As PostgreSQL's format_type prints it: `text`, `character(64)`, `double precision`... */
  type: string;
  nullable: boolean;
  /** Its place in the primary key (1-based), 0 when it is not part of it. */
  keyPosition: number;
}

/** Anything that runs a query: a pg Pool or Client, a TypeORM DataSource or EntityManager. */
export interface Queryable {
  query(sql: string, params?: unknown[]): Promise<unknown>;
}

/** The columns of these tables in the database's current schema, as PostgreSQL's catalog has them. */
export async function readSchema(db: Queryable, tables: readonly string[]): Promise<DatabaseColumn[]> {
  const result = await db.query(
    `SELECT c.relname AS "table", a.attname AS "column", format_type(a.atttypid, a.atttypmod) AS "type",
            NOT a.attnotnull AS "nullable", coalesce(array_position(k.conkey, a.attnum), 0)::int AS "keyPosition"
       FROM pg_class c
       JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = current_schema()
       JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
       LEFT JOIN pg_constraint k ON k.conrelid = c.oid AND k.contype = 'p'
      WHERE c.relkind = 'r' AND c.relname = ANY($1)
      ORDER BY c.relname, a.attnum`,
    [tables],
  );
  // A pg result has its rows in `rows`; TypeORM returns the rows themselves.
  return (Array.isArray(result) ? result : (result as { rows: DatabaseColumn[] }).rows) as DatabaseColumn[];
}

function describe(column: Pick<TableColumn, 'type' | 'nullable' | 'keyPosition'>): string {
  const key = column.keyPosition > 0 ? `, primary key #${column.keyPosition}` : '';
  return `${column.type} ${column.nullable ? 'NULL' : 'NOT NULL'}${key}`;
}

/**
 * What differs between the tables the code declares and the database: a declared table or column the
 * database lacks, a column of another type, nullability or primary-key place, and a column of a declared
 * table that the code does not declare. One line per difference; none when they agree.
 */
export function schemaDrift(
  declared: readonly TableDefinition[],
  database: readonly DatabaseColumn[],
): string[] {
  const drift: string[] = [];
  for (const table of declared) {
    const actual = new Map(database.filter((c) => c.table === table.name).map((c) => [c.column, c]));
    if (actual.size === 0) {
      drift.push(`${table.name}: declared in code, missing from the database`);
      continue;
    }
    for (const column of table.columns) {
      const found = actual.get(column.name);
      if (!found)
        drift.push(`${table.name}.${column.name}: declared ${describe(column)}, missing from the database`);
      else if (describe(found) !== describe(column))
        drift.push(
          `${table.name}.${column.name}: declared ${describe(column)}, the database has ${describe(found)}`,
        );
      actual.delete(column.name);
    }
    for (const extra of actual.values())
      drift.push(`${table.name}.${extra.column}: in the database (${describe(extra)}), not declared in code`);
  }
  return drift;
}
