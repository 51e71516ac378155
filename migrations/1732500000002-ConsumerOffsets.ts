import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Where each consumer group of the event bus has got to in the log (committed after its handler ran). */
export class ConsumerOffsets1732500000002 implements MigrationInterface {
  name = 'ConsumerOffsets1732500000002';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE consumer_offsets (
        consumer_group text PRIMARY KEY,
        global_position bigint NOT NULL
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE consumer_offsets');
  }
}
