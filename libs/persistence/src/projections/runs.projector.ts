import type { EntityManager } from 'typeorm';
import type { RecordedEvent } from '@recon/eventlog';
import type { PayloadOf } from '@recon/contracts';
import { insertRows, rangeCondition, type LogRange, type Projector } from './projector';

/** One row per run: lifecycle status, lineage, and how many events its stream holds. */
export class RunsProjector implements Projector {
  readonly name = 'runs';
  readonly tables = [{ name: 'runs', orderBy: 'run_id' }];

  readonly eventTypes = ['run.requested', 'run.completed', 'run.failed'];

  async apply(manager: EntityManager, events: RecordedEvent[]): Promise<void> {
    const created: Array<Record<string, unknown>> = [];
    for (const event of events) {
      if (event.type === 'run.requested') {
        const payload = event.payload as PayloadOf<'run.requested'>;
        created.push({
          run_id: event.streamId,
          name: payload.name,
          status: 'requested',
          seed: payload.seed,
          config_hash: payload.configHash,
          requested_by: payload.requestedBy,
          code_version: payload.codeVersion,
          requested_at: event.occurredAt,
          parent_run_id: payload.parent?.runId ?? null,
          parent_step: payload.parent?.step ?? null,
          changed_keys: payload.parent?.changedKeys ?? null,
          event_count: 0,
          last_position: 0,
        });
      }
    }
    await insertRows(
      manager,
      'runs',
      [
        ['run_id', 'text'],
        ['name', 'text'],
        ['status', 'text'],
        ['seed', 'bigint'],
        ['config_hash', 'text'],
        ['requested_by', 'text'],
        ['code_version', 'text'],
        ['requested_at', 'text'],
        ['parent_run_id', 'text'],
        ['parent_step', 'integer'],
        ['changed_keys', 'jsonb'],
        ['event_count', 'integer'],
        ['last_position', 'integer'],
      ],
      created,
    );
    for (const event of events) {
      if (event.type === 'run.completed') {
        const payload = event.payload as PayloadOf<'run.completed'>;
        await manager.query(
          `UPDATE runs SET status = 'completed', finished_at = $2, summary = $3::jsonb WHERE run_id = $1`,
          [event.streamId, event.occurredAt, JSON.stringify(payload.summary)],
        );
      } else if (event.type === 'run.failed') {
        const payload = event.payload as PayloadOf<'run.failed'>;
        await manager.query(
          `UPDATE runs SET status = 'failed', finished_at = $2, failure = $3 WHERE run_id = $1`,
          [event.streamId, event.occurredAt, `${payload.phase}: ${payload.error}`],
        );
      }
    }
  }

  /** Event counts per run are taken in PostgreSQL over the whole range, whatever the event types. */
  async applyRange(manager: EntityManager, range: LogRange): Promise<void> {
    const condition = rangeCondition(range);
    await manager.query(
      `UPDATE runs SET event_count = runs.event_count + c.n, last_position = c.last
         FROM (SELECT e.stream_id, count(*)::int AS n, max(e.position) AS last FROM recon_events e
                WHERE ${condition.sql} GROUP BY e.stream_id) c
        WHERE runs.run_id = c.stream_id`,
      condition.params,
    );
  }

  reset(): void {}
}
