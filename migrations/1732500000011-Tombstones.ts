import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Content deletion without breaking audits: a tombstoned event keeps its place, its hashes and its chain
 * link; only its payload text is replaced by a tombstone naming the deletion event that authorised it.
 */
export class Tombstones1732500000011 implements MigrationInterface {
  name = 'Tombstones1732500000011';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE recon_events ADD COLUMN tombstoned_by uuid`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE recon_events DROP COLUMN tombstoned_by`);
  }
}
