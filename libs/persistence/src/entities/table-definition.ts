import { getMetadataArgsStorage } from 'typeorm';

/** A read-model entity class: its decorators are the one declaration of its table in code. */
export type EntityClass<E extends object = object> = new () => E;

/** A column as its entity declares it. */
export interface TableColumn {
  /** The column's name in PostgreSQL. */
  name: string;
  /** The entity property (and, for the row-per-event read models, the payload field) it holds. */
  property: string;
  /** Its SQL type as PostgreSQL spells it (`format_type`): `text`, `character(64)`, `double precision`... */
  type: string;
  nullable: boolean;
  /** Its place in the primary key (1-based), 0 when it is not part of it. */
  keyPosition: number;
}

/** A table as its entity declares it: what the projectors write and the drift test checks. */
export interface TableDefinition {
  name: string;
  columns: TableColumn[];
}

/** TypeORM's aliases of the SQL types the entities use, spelled as PostgreSQL's format_type spells them. */
const CANONICAL_TYPES: Record<string, string> = {
  char: 'character',
  varchar: 'character varying',
  int: 'integer',
  int4: 'integer',
  int8: 'bigint',
  float8: 'double precision',
  bool: 'boolean',
};

function sqlType(entity: EntityClass, property: string, type: unknown, length: unknown): string {
  if (typeof type !== 'string')
    throw new Error(`${entity.name}.${property}: declare the column's SQL type as a string (type: '...')`);
  const base = CANONICAL_TYPES[type] ?? type;
  return length === undefined ? base : `${base}(${String(length)})`;
}

const definitions = new Map<EntityClass, TableDefinition>();

/** The table an entity class declares (read once from its TypeORM decorators), columns in declaration order. */
export function tableDefinition(entity: EntityClass): TableDefinition {
  let definition = definitions.get(entity);
  if (!definition) {
    const storage = getMetadataArgsStorage();
    const table = storage.tables.find((t) => t.target === entity);
    if (!table?.name) throw new Error(`${entity.name} is not an @Entity with a table name`);
    let key = 0;
    const columns = storage.filterColumns(entity).map(({ propertyName, options }): TableColumn => ({
      name: options.name ?? propertyName,
      property: propertyName,
      type: sqlType(entity, propertyName, options.type, options.length),
      nullable: options.nullable === true,
      keyPosition: options.primary ? ++key : 0,
    }));
    definition = { name: table.name, columns };
    definitions.set(entity, definition);
  }
  return definition;
}

/** The column names of an entity by property, for the SQL a projector writes by hand. */
export function columnNames<E extends object>(entity: EntityClass<E>): Record<keyof E & string, string> {
  return Object.fromEntries(tableDefinition(entity).columns.map((c) => [c.property, c.name])) as Record<
    keyof E & string,
    string
  >;
}

/** The primary key's columns in key order: an ORDER BY under which the table's rows have one order. */
export function primaryKeyOrder(definition: TableDefinition): string {
  return definition.columns
    .filter((c) => c.keyPosition > 0)
    .sort((a, b) => a.keyPosition - b.keyPosition)
    .map((c) => c.name)
    .join(', ');
}
