import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The projection lock of ProjectionRunner: a catch-up in another process never sees the column half filled. */
const PROJECTION_LOCK = 7_224_031;

/**
 * `runs.last_event_at`: when the run's last event occurred, so `recon runs` and the explorer can tell a run
 * that is recording events from one that stalled. Existing rows take the occurredAt of the event at their
 * `last_position` (the event the projector last counted), which is what a rebuild gives them.
 */
export class RunLastEventAt1732500000014 implements MigrationInterface {
  name = 'RunLastEventAt1732500000014';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('SELECT pg_advisory_xact_lock($1)', [PROJECTION_LOCK]);
    await queryRunner.query('ALTER TABLE runs ADD COLUMN last_event_at text');
    await queryRunner.query(`
      UPDATE runs SET last_event_at = e.occurred_at
        FROM recon_events e
       WHERE e.stream_id = runs.run_id AND e.position = runs.last_position`);
    await queryRunner.query('ALTER TABLE runs ALTER COLUMN last_event_at SET NOT NULL');
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE runs DROP COLUMN last_event_at');
  }
}
