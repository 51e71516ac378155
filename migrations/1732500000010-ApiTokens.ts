import type { MigrationInterface, QueryRunner } from 'typeorm';

/** API tokens, projected from access.token.* events (the secret itself is never stored, only its sha256). */
export class ApiTokens1732500000010 implements MigrationInterface {
  name = 'ApiTokens1732500000010';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE api_tokens (
        token_id text PRIMARY KEY,
        name text NOT NULL,
        role text NOT NULL,
        secret_hash text NOT NULL,
        created_at text NOT NULL,
        created_by text NOT NULL,
        expires_at text,
        revoked_at text,
        revoked_by text,
        revoke_reason text,
        global_position bigint NOT NULL
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE api_tokens');
  }
}
