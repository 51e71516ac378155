import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Read models projected from the log. Every row is keyed by what it was projected from (run id and the
 * event's global position), never by a serial id or a clock, so a rebuild reproduces the tables exactly.
 */
export class ReadModels1732500000001 implements MigrationInterface {
  name = 'ReadModels1732500000001';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE projection_checkpoints (
        projector text PRIMARY KEY,
        global_position bigint NOT NULL
      )`);
    await queryRunner.query(`
      CREATE TABLE runs (
        run_id text PRIMARY KEY,
        name text NOT NULL,
        status text NOT NULL,
        seed bigint NOT NULL,
        config_hash char(64) NOT NULL,
        requested_by text NOT NULL,
        code_version text NOT NULL,
        requested_at text NOT NULL,
        finished_at text,
        failure text,
        parent_run_id text,
        parent_step integer,
        changed_keys jsonb,
        summary jsonb,
        event_count integer NOT NULL,
        last_position integer NOT NULL
      )`);
    await queryRunner.query(`
      CREATE TABLE metric_points (
        run_id text NOT NULL,
        name text NOT NULL,
        step integer NOT NULL,
        global_position bigint NOT NULL,
        value double precision NOT NULL,
        superseded_by bigint,
        PRIMARY KEY (run_id, name, global_position)
      )`);
    await queryRunner.query(`CREATE INDEX metric_points_series_idx ON metric_points (run_id, name, step)`);
    await queryRunner.query(`
      CREATE TABLE rollouts (
        run_id text NOT NULL,
        rollout_id text NOT NULL,
        global_position bigint NOT NULL,
        step integer NOT NULL,
        prompt_id text NOT NULL,
        group_index integer NOT NULL,
        policy_version char(64) NOT NULL,
        completion text NOT NULL,
        completion_tokens integer NOT NULL,
        truncated boolean NOT NULL,
        finish_reason text NOT NULL,
        PRIMARY KEY (run_id, global_position)
      )`);
    await queryRunner.query(`CREATE INDEX rollouts_id_idx ON rollouts (run_id, rollout_id)`);
    await queryRunner.query(`
      CREATE TABLE rewards (
        run_id text NOT NULL,
        global_position bigint NOT NULL,
        rollout_id text NOT NULL,
        step integer NOT NULL,
        reward_id text NOT NULL,
        reward_version text NOT NULL,
        total double precision NOT NULL,
        components jsonb NOT NULL,
        PRIMARY KEY (run_id, global_position)
      )`);
    await queryRunner.query(`CREATE INDEX rewards_reward_idx ON rewards (run_id, reward_id, step)`);
    await queryRunner.query(`
      CREATE TABLE eval_results (
        run_id text NOT NULL,
        global_position bigint NOT NULL,
        suite text NOT NULL,
        stage text NOT NULL,
        item_id text NOT NULL,
        category text NOT NULL,
        parsed_answer text,
        gold text NOT NULL,
        correct boolean NOT NULL,
        score double precision,
        PRIMARY KEY (run_id, global_position)
      )`);
    await queryRunner.query(`CREATE INDEX eval_results_suite_idx ON eval_results (run_id, suite, stage, category)`);
    await queryRunner.query(`
      CREATE TABLE game_matches (
        run_id text NOT NULL,
        global_position bigint NOT NULL,
        match_id text NOT NULL,
        game text NOT NULL,
        suite text NOT NULL,
        stage text NOT NULL,
        opponent text NOT NULL,
        agent_seat integer NOT NULL,
        seed bigint NOT NULL,
        returns jsonb NOT NULL,
        outcome text NOT NULL,
        status text NOT NULL,
        pareto_optimal_equilibrium boolean,
        invalid_count integer NOT NULL,
        retries integer NOT NULL,
        PRIMARY KEY (run_id, global_position)
      )`);
    await queryRunner.query(`CREATE INDEX game_matches_game_idx ON game_matches (run_id, suite, game, stage)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const table of ['game_matches', 'eval_results', 'rewards', 'rollouts', 'metric_points', 'runs', 'projection_checkpoints']) {
      await queryRunner.query(`DROP TABLE ${table}`);
    }
  }
}
