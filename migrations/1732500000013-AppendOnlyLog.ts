import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The log is append-only in the database too: triggers refuse UPDATE, DELETE and TRUNCATE of
 * `recon_events`, any DELETE or TRUNCATE of the stream and global heads, and any move of a head backwards.
 * The one UPDATE allowed is the documented withdrawal (`recon delete`): through `recon_withdraw_content`,
 * which names the deletion event in the transaction-local setting `recon.withdrawal`; the trigger then
 * accepts only a tombstone of that event, every other column unchanged, authorised by a later
 * `run.content.deleted` event of the same stream that lists it.
 *
 * A role that owns the tables (or a superuser) can still disable the triggers: that is what the signed
 * checkpoints kept outside PostgreSQL are for (README, Security).
 *
 * `recon_append` is the append itself in one round trip: it takes the global append lock, checks that the
 * stream is still at the head the caller chained its events to, and inserts them with the stream head and
 * the notification, or reports what stopped it (ids already recorded, or the head the stream moved to).
 */
export class AppendOnlyLog1732500000013 implements MigrationInterface {
  name = 'AppendOnlyLog1732500000013';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE FUNCTION recon_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
          USING ERRCODE = 'insufficient_privilege',
                HINT = 'content is withdrawn only by recon delete (recon_withdraw_content); the log is never rewritten';
      END $$`);
    await queryRunner.query(`
      CREATE FUNCTION recon_events_guard() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE
        v_deletion text := nullif(current_setting('recon.withdrawal', true), '');
      BEGIN
        IF TG_OP = 'UPDATE' AND v_deletion IS NOT NULL
           AND OLD.tombstoned_by IS NULL
           AND NEW.tombstoned_by::text = v_deletion
           AND NEW.payload::text = '{"tombstone":{"deletedBy":"' || v_deletion || '"}}'
           AND (NEW.global_position, NEW.event_id, NEW.stream_id, NEW.position, NEW.type, NEW.schema_version,
                NEW.occurred_at, NEW.producer::text, NEW.causation_id, NEW.correlation_id, NEW.meta::text,
                NEW.payload_hash, NEW.meta_hash, NEW.prev_hash, NEW.hash)
               IS NOT DISTINCT FROM
               (OLD.global_position, OLD.event_id, OLD.stream_id, OLD.position, OLD.type, OLD.schema_version,
                OLD.occurred_at, OLD.producer::text, OLD.causation_id, OLD.correlation_id, OLD.meta::text,
                OLD.payload_hash, OLD.meta_hash, OLD.prev_hash, OLD.hash)
           AND EXISTS (
             SELECT 1 FROM recon_events d
              WHERE d.event_id = NEW.tombstoned_by AND d.stream_id = OLD.stream_id AND d.position > OLD.position
                AND d.type = 'run.content.deleted' AND (d.payload::jsonb -> 'eventIds') ? OLD.event_id::text)
        THEN
          RETURN NEW;
        END IF;
        RAISE EXCEPTION 'recon_events is append-only: % of event % (stream %, position %) refused',
            TG_OP, OLD.event_id, OLD.stream_id, OLD.position
          USING ERRCODE = 'insufficient_privilege',
                HINT = 'content is withdrawn only by recon delete (recon_withdraw_content); the log is never rewritten';
      END $$`);
    await queryRunner.query(`
      CREATE TRIGGER recon_events_append_only BEFORE UPDATE OR DELETE ON recon_events
        FOR EACH ROW EXECUTE FUNCTION recon_events_guard()`);
    // Heads only move forward; appends never pay for a trigger call (WHEN is evaluated without one).
    await queryRunner.query(`
      CREATE TRIGGER recon_streams_forward_only BEFORE UPDATE ON recon_streams FOR EACH ROW
        WHEN (NEW.version <= OLD.version OR NEW.stream_id <> OLD.stream_id) EXECUTE FUNCTION recon_refuse_change()`);
    await queryRunner.query(`
      CREATE TRIGGER recon_log_head_forward_only BEFORE UPDATE ON recon_log_head FOR EACH ROW
        WHEN (NEW.global_position < OLD.global_position OR NEW.id <> OLD.id) EXECUTE FUNCTION recon_refuse_change()`);
    for (const table of ['recon_events', 'recon_streams', 'recon_log_head']) {
      if (table !== 'recon_events')
        await queryRunner.query(
          `CREATE TRIGGER ${table}_no_delete BEFORE DELETE ON ${table} FOR EACH ROW EXECUTE FUNCTION recon_refuse_change()`,
        );
      await queryRunner.query(
        `CREATE TRIGGER ${table}_no_truncate BEFORE TRUNCATE ON ${table} FOR EACH STATEMENT EXECUTE FUNCTION recon_refuse_change()`,
      );
    }
    await queryRunner.query(`
      CREATE FUNCTION recon_withdraw_content(p_stream text, p_deletion uuid, p_events uuid[]) RETURNS integer
      LANGUAGE plpgsql AS $$
      DECLARE
        v_count integer;
      BEGIN
        PERFORM set_config('recon.withdrawal', p_deletion::text, true);
        UPDATE recon_events SET payload = ('{"tombstone":{"deletedBy":"' || p_deletion::text || '"}}')::json,
                                tombstoned_by = p_deletion
         WHERE stream_id = p_stream AND event_id = ANY (p_events);
        GET DIAGNOSTICS v_count = ROW_COUNT;
        PERFORM set_config('recon.withdrawal', '', true);
        RETURN v_count;
      END $$`);
    await queryRunner.query(`
      CREATE FUNCTION recon_append(
        p_stream text, p_sealed_version integer, p_sealed_hash text, p_check_ids boolean, p_producer json,
        p_event_ids uuid[], p_types text[], p_schema_versions integer[], p_occurred_at text[],
        p_causation_ids text[], p_correlation_ids text[], p_payloads json[], p_metas json[],
        p_payload_hashes text[], p_meta_hashes text[], p_prev_hashes text[], p_hashes text[])
      RETURNS TABLE (outcome text, first_global bigint, head_version integer, head_hash text)
      LANGUAGE plpgsql AS $$
      DECLARE
        v_count integer := cardinality(p_event_ids);
        v_head bigint;
        v_version integer;
        v_hash text;
      BEGIN
        -- The global append lock: appends commit one at a time, so global positions are gap-free in commit
        -- order. Every later statement here sees what the previous holder committed.
        SELECT global_position INTO v_head FROM recon_log_head WHERE id = 1 FOR UPDATE;
        IF p_check_ids AND EXISTS (SELECT 1 FROM recon_events WHERE event_id = ANY (p_event_ids)) THEN
          RETURN QUERY SELECT 'recorded'::text, NULL::bigint, NULL::integer, NULL::text;
          RETURN;
        END IF;
        SELECT version, last_hash INTO v_version, v_hash FROM recon_streams WHERE stream_id = p_stream;
        IF coalesce(v_version, 0) <> p_sealed_version OR v_hash IS DISTINCT FROM p_sealed_hash THEN
          RETURN QUERY SELECT 'moved'::text, NULL::bigint, coalesce(v_version, 0), v_hash;
          RETURN;
        END IF;
        UPDATE recon_log_head SET global_position = v_head + v_count WHERE id = 1;
        INSERT INTO recon_events (global_position, event_id, stream_id, position, type, schema_version, occurred_at,
            producer, causation_id, correlation_id, payload, meta, payload_hash, meta_hash, prev_hash, hash)
          SELECT v_head + e.n, e.event_id, p_stream, p_sealed_version + e.n::integer, e.type, e.schema_version,
                 e.occurred_at, p_producer, e.causation_id, e.correlation_id, e.payload, e.meta, e.payload_hash,
                 e.meta_hash, e.prev_hash, e.hash
            FROM unnest(p_event_ids, p_types, p_schema_versions, p_occurred_at, p_causation_ids, p_correlation_ids,
                        p_payloads, p_metas, p_payload_hashes, p_meta_hashes, p_prev_hashes, p_hashes)
                 WITH ORDINALITY AS e(event_id, type, schema_version, occurred_at, causation_id, correlation_id,
                                      payload, meta, payload_hash, meta_hash, prev_hash, hash, n);
        INSERT INTO recon_streams (stream_id, version, last_hash, last_global_position)
          VALUES (p_stream, p_sealed_version + v_count, p_hashes[v_count], v_head + v_count)
          ON CONFLICT (stream_id) DO UPDATE
            SET version = EXCLUDED.version, last_hash = EXCLUDED.last_hash,
                last_global_position = EXCLUDED.last_global_position;
        PERFORM pg_notify('recon_events', (v_head + v_count)::text);
        RETURN QUERY SELECT 'appended'::text, v_head + 1, p_sealed_version + v_count, p_hashes[v_count];
      END $$`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP FUNCTION recon_append');
    await queryRunner.query('DROP FUNCTION recon_withdraw_content');
    for (const table of ['recon_events', 'recon_streams', 'recon_log_head']) {
      await queryRunner.query(`DROP TRIGGER ${table}_no_truncate ON ${table}`);
      if (table !== 'recon_events') await queryRunner.query(`DROP TRIGGER ${table}_no_delete ON ${table}`);
    }
    await queryRunner.query('DROP TRIGGER recon_log_head_forward_only ON recon_log_head');
    await queryRunner.query('DROP TRIGGER recon_streams_forward_only ON recon_streams');
    await queryRunner.query('DROP TRIGGER recon_events_append_only ON recon_events');
    await queryRunner.query('DROP FUNCTION recon_events_guard');
    await queryRunner.query('DROP FUNCTION recon_refuse_change');
  }
}
