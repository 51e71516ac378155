import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The projection lock of ProjectionRunner: a catch-up in another process never sees the table half reset. */
const PROJECTION_LOCK = 7_224_031;

/**
 * `runs` lists external evaluations (`recon eval`) beside training runs: what opened the stream (`kind`), and
 * the model evaluated or trained (`model`, and the redacted `base_url` of an OpenAI-compatible endpoint).
 * The table is emptied and its projector's checkpoint dropped, so the next catch-up projects it again from
 * the whole log: evaluations recorded before this migration get their rows, and every row its new columns,
 * exactly as a rebuild would make them.
 */
export class RunKinds1732500000012 implements MigrationInterface {
  name = 'RunKinds1732500000012';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('SELECT pg_advisory_xact_lock($1)', [PROJECTION_LOCK]);
    await queryRunner.query(`
      ALTER TABLE runs
        ADD COLUMN kind text NOT NULL DEFAULT 'training',
        ADD COLUMN model text,
        ADD COLUMN base_url text`);
    await queryRunner.query('TRUNCATE runs');
    await queryRunner.query(`DELETE FROM projection_checkpoints WHERE projector = 'runs'`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('SELECT pg_advisory_xact_lock($1)', [PROJECTION_LOCK]);
    await queryRunner.query(`DELETE FROM runs WHERE kind <> 'training'`);
    await queryRunner.query('ALTER TABLE runs DROP COLUMN kind, DROP COLUMN model, DROP COLUMN base_url');
  }
}
