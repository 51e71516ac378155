import { ENTITIES, MetricPointEntity, RolloutEntity, RunEntity } from './entities';
import {
  columnNames,
  primaryKeyOrder,
  tableDefinition,
  type TableColumn,
  type TableDefinition,
} from './entities/table-definition';
import { schemaDrift, type DatabaseColumn } from './schema-drift';

/** The database a declaration describes exactly. */
function databaseOf(definitions: readonly TableDefinition[]): DatabaseColumn[] {
  return definitions.flatMap((t) =>
    t.columns.map((c) => ({
      table: t.name,
      column: c.name,
      type: c.type,
      nullable: c.nullable,
      keyPosition: c.keyPosition,
    })),
  );
}

/** A declaration with one column changed. */
function withColumn(
  definition: TableDefinition,
  name: string,
  change: Partial<TableColumn>,
): TableDefinition {
  return {
    ...definition,
    columns: definition.columns.map((c) => (c.name === name ? { ...c, ...change } : c)),
  };
}

describe('tableDefinition', () => {
  it("reads a table's columns from its entity: names, PostgreSQL types, nullability and primary key", () => {
    const rollouts = tableDefinition(RolloutEntity);
    expect(rollouts.name).toBe('rollouts');
    expect(rollouts.columns.find((c) => c.property === 'policyVersion')).toEqual({
      name: 'policy_version',
      property: 'policyVersion',
      type: 'character(64)',
      nullable: false,
      keyPosition: 0,
    });
    expect(primaryKeyOrder(rollouts)).toBe('run_id, global_position');
    expect(primaryKeyOrder(tableDefinition(MetricPointEntity))).toBe('run_id, name, global_position');
    expect(tableDefinition(RunEntity).columns.find((c) => c.name === 'parent_step')).toMatchObject({
      type: 'integer',
      nullable: true,
    });
    expect(columnNames(RunEntity)).toMatchObject({ eventCount: 'event_count', runId: 'run_id' });
  });

  it('refuses an entity that is not one', () => {
    class NotAnEntity {}
    expect(() => tableDefinition(NotAnEntity)).toThrow('NotAnEntity is not an @Entity');
  });
});

describe('schemaDrift', () => {
  const declared = ENTITIES.map((entity) => tableDefinition(entity));
  const rollouts = tableDefinition(RolloutEntity);
  const others = declared.filter((t) => t.name !== 'rollouts');

  it('finds none between a declaration and a database that matches it', () => {
    expect(schemaDrift(declared, databaseOf(declared))).toEqual([]);
  });

  it('names every difference of a modified declaration', () => {
    const database = databaseOf(declared);
    const cases: Array<[TableDefinition, string]> = [
      [
        withColumn(rollouts, 'policy_version', { type: 'text' }),
        'rollouts.policy_version: declared text NOT NULL, the database has character(64) NOT NULL',
      ],
      [
        withColumn(rollouts, 'completion', { nullable: true }),
        'rollouts.completion: declared text NULL, the database has text NOT NULL',
      ],
      [
        withColumn(rollouts, 'rollout_id', { keyPosition: 3 }),
        'rollouts.rollout_id: declared text NOT NULL, primary key #3, the database has text NOT NULL',
      ],
      [
        {
          ...rollouts,
          columns: [...rollouts.columns, { ...rollouts.columns[2], name: 'seen_at', property: 'seenAt' }],
        },
        'rollouts.seen_at: declared text NOT NULL, missing from the database',
      ],
      [
        { ...rollouts, columns: rollouts.columns.filter((c) => c.name !== 'truncated') },
        'rollouts.truncated: in the database (boolean NOT NULL), not declared in code',
      ],
      [{ ...rollouts, name: 'rollout_rows' }, 'rollout_rows: declared in code, missing from the database'],
    ];
    for (const [modified, line] of cases)
      expect(schemaDrift([...others, modified], database)).toEqual([line]);
  });
});
