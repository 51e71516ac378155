import { ENTITIES, RolloutEntity } from './entities';
import { tableDefinition, type TableDefinition } from './entities/table-definition';
import { defaultProjectors } from './projections';
import { createScratchPlatform, type ScratchPlatform } from './scratch';
import { readSchema, schemaDrift } from './schema-drift';

/**
 * The read-model tables are declared once in code, by their entities: the projectors write every column
 * from them. This checks those declarations against what the migrations make of a fresh database, so a
 * migration and an entity that disagree fail here rather than in a projection.
 */
describe('read-model tables: entities against the migrated database', () => {
  let platform: ScratchPlatform;
  const declared = ENTITIES.map((entity) => tableDefinition(entity));
  const database = (tables: readonly TableDefinition[]) =>
    readSchema(
      platform.pool,
      tables.map((t) => t.name),
    );

  beforeAll(async () => {
    platform = await createScratchPlatform();
  });

  afterAll(async () => {
    await platform?.close();
  });

  it('every table a projector writes is declared by a registered entity', () => {
    const written = defaultProjectors().flatMap((p) => p.tables.map((t) => t.entity));
    expect(written.filter((entity) => !ENTITIES.includes(entity))).toEqual([]);
    expect(new Set(written.map((entity) => tableDefinition(entity).name)).size).toBe(written.length);
  });

  it('every declared table and column exists with the declared type, nullability and primary key', async () => {
    expect(schemaDrift(declared, await database(declared))).toEqual([]);
  });

  it('fails on a declaration the migrations do not match', async () => {
    const rollouts = tableDefinition(RolloutEntity);
    const drifted: TableDefinition[] = [
      {
        ...rollouts,
        columns: [
          ...rollouts.columns.map((c) => (c.name === 'completion_tokens' ? { ...c, type: 'bigint' } : c)),
          { name: 'seen_at', property: 'seenAt', type: 'text', nullable: true, keyPosition: 0 },
        ],
      },
      { name: 'rollout_votes', columns: rollouts.columns },
    ];
    expect(schemaDrift(drifted, await database(drifted))).toEqual([
      'rollouts.completion_tokens: declared bigint NOT NULL, the database has integer NOT NULL',
      'rollouts.seen_at: declared text NULL, missing from the database',
      'rollout_votes: declared in code, missing from the database',
    ]);
  });
});
