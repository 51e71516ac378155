import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The append-only event log: events, per-stream heads and the single-row global head. */
export class EventLog1732500000000 implements MigrationInterface {
  name = 'EventLog1732500000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE recon_events (
        global_position bigint PRIMARY KEY,
        event_id uuid NOT NULL UNIQUE,
        stream_id text NOT NULL,
        position integer NOT NULL CHECK (position > 0),
        type text NOT NULL,
        schema_version integer NOT NULL,
        occurred_at text NOT NULL,
        producer json NOT NULL,
        causation_id text,
        correlation_id text,
        payload json NOT NULL,
        meta json NOT NULL,
        payload_hash text NOT NULL,
        meta_hash text NOT NULL,
        prev_hash text,
        hash text NOT NULL,
        UNIQUE (stream_id, position)
      )`);
    await queryRunner.query(`
      CREATE TABLE recon_streams (
        stream_id text PRIMARY KEY,
        version integer NOT NULL,
        last_hash text NOT NULL,
        last_global_position bigint NOT NULL
      )`);
    await queryRunner.query(`
      CREATE TABLE recon_log_head (
        id integer PRIMARY KEY CHECK (id = 1),
        global_position bigint NOT NULL
      )`);
    await queryRunner.query(`INSERT INTO recon_log_head (id, global_position) VALUES (1, 0)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE recon_log_head`);
    await queryRunner.query(`DROP TABLE recon_streams`);
    await queryRunner.query(`DROP TABLE recon_events`);
  }
}
