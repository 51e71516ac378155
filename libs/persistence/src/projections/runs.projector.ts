import type { EntityManager } from 'typeorm';
import type { RecordedEvent } from '@recon/eventlog';
import type { PayloadOf } from '@recon/contracts';
import { redactUrl } from '../redact-url';
import { insertRows, rangeCondition, type LogRange, type Projector } from './projector';

const RUN_COLUMNS: ReadonlyArray<[name: string, type: string]> = [
  ['run_id', 'text'],
  ['kind', 'text'],
  ['name', 'text'],
  ['status', 'text'],
  ['seed', 'bigint'],
  ['config_hash', 'text'],
  ['requested_by', 'text'],
  ['code_version', 'text'],
  ['requested_at', 'text'],
  ['model', 'text'],
  ['base_url', 'text'],
  ['parent_run_id', 'text'],
  ['parent_step', 'integer'],
  ['changed_keys', 'jsonb'],
  ['event_count', 'integer'],
  ['last_position', 'integer'],
];

/** The policy a run config names: a built-in model, or an OpenAI-compatible endpoint (its URL redacted). */
function configuredModel(config: Record<string, unknown>): { model: string; base_url: string | null } {
  const policy = config.policy as { kind?: string; model?: string; baseUrl?: string } | undefined;
  if (policy?.kind === 'openai' && policy.model && policy.baseUrl)
    return { model: policy.model, base_url: redactUrl(policy.baseUrl) };
  return { model: policy?.kind ?? 'builtin', base_url: null };
}

function trainingRunRow(event: RecordedEvent): Record<string, unknown> {
  const payload = event.payload as PayloadOf<'run.requested'>;
  return {
    run_id: event.streamId,
    kind: 'training',
    name: payload.name,
    status: 'requested',
    seed: payload.seed,
    config_hash: payload.configHash,
    requested_by: payload.requestedBy,
    code_version: payload.codeVersion,
    requested_at: event.occurredAt,
    ...configuredModel(payload.config),
    parent_run_id: payload.parent?.runId ?? null,
    parent_step: payload.parent?.step ?? null,
    changed_keys: payload.parent?.changedKeys ?? null,
    event_count: 0,
    last_position: 0,
  };
}

/** An external evaluation's request is its whole configuration, so its payload hash stands as the config hash. */
function externalEvaluationRow(event: RecordedEvent): Record<string, unknown> {
  const payload = event.payload as PayloadOf<'external.evaluation.requested'>;
  return {
    run_id: event.streamId,
    kind: 'external-eval',
    name: payload.policy.model,
    status: 'requested',
    seed: payload.seed,
    config_hash: event.payloadHash,
    requested_by: payload.requestedBy,
    code_version: payload.codeVersion,
    requested_at: event.occurredAt,
    model: payload.policy.model,
    base_url: redactUrl(payload.policy.baseUrl),
    parent_run_id: null,
    parent_step: null,
    changed_keys: null,
    event_count: 0,
    last_position: 0,
  };
}

/** A distillation job (`recon dataset distill`): its teacher is the model, its source dataset the name. */
function distillationJobRow(event: RecordedEvent): Record<string, unknown> {
  const payload = event.payload as PayloadOf<'distillation.requested'>;
  return {
    run_id: event.streamId,
    kind: 'distillation',
    name: payload.source.name,
    status: 'requested',
    seed: 0,
    config_hash: event.payloadHash,
    requested_by: payload.requestedBy,
    code_version: payload.codeVersion,
    requested_at: event.occurredAt,
    model: payload.teacher.model,
    base_url: redactUrl(payload.teacher.baseUrl),
    parent_run_id: null,
    parent_step: null,
    changed_keys: null,
    event_count: 0,
    last_position: 0,
  };
}

/** A distillation run's totals: accepted and rejected traces become the row's summary. */
function distillationSummary(payload: PayloadOf<'distillation.completed'>): Record<string, number> {
  const { items, accepted, rejected } = payload;
  return {
    items,
    accepted,
    rejected: rejected.wrongAnswer + rejected.noAnswer + rejected.teacherFailed,
    wrongAnswer: rejected.wrongAnswer,
    noAnswer: rejected.noAnswer,
    teacherFailed: rejected.teacherFailed,
  };
}

/**
 * One row per run — a training run (`run.requested`), an external evaluation
 * (`external.evaluation.requested`, `recon eval`) or a distillation job (`distillation.requested`): lifecycle
 * status, model, lineage, and how many events its stream holds. A distillation job is completed once a run
 * of it accepted a trace, failed when every item was rejected; its summary holds the counts.
 */
export class RunsProjector implements Projector {
  readonly name = 'runs';
  readonly tables = [{ name: 'runs', orderBy: 'run_id' }];

  readonly eventTypes = [
    'run.requested',
    'external.evaluation.requested',
    'distillation.requested',
    'run.completed',
    'run.failed',
    'distillation.completed',
    'external.evaluation.resumed',
  ];

  async apply(manager: EntityManager, events: RecordedEvent[]): Promise<void> {
    const created = events.flatMap((event) =>
      event.type === 'run.requested'
        ? [trainingRunRow(event)]
        : event.type === 'external.evaluation.requested'
          ? [externalEvaluationRow(event)]
          : event.type === 'distillation.requested'
            ? [distillationJobRow(event)]
            : [],
    );
    await insertRows(manager, 'runs', RUN_COLUMNS, created);
    for (const event of events) {
      if (event.type === 'run.completed') {
        const payload = event.payload as PayloadOf<'run.completed'>;
        await manager.query(
          `UPDATE runs SET status = 'completed', finished_at = $2, summary = $3::jsonb WHERE run_id = $1`,
          [event.streamId, event.occurredAt, JSON.stringify(payload.summary)],
        );
      } else if (event.type === 'external.evaluation.resumed') {
        await manager.query(
          `UPDATE runs SET status = 'requested', finished_at = NULL, failure = NULL WHERE run_id = $1`,
          [event.streamId],
        );
      } else if (event.type === 'distillation.completed') {
        const summary = distillationSummary(event.payload as PayloadOf<'distillation.completed'>);
        await manager.query(
          `UPDATE runs SET status = $2, finished_at = $3, summary = $4::jsonb, failure = $5 WHERE run_id = $1`,
          [
            event.streamId,
            summary.accepted > 0 ? 'completed' : 'failed',
            event.occurredAt,
            JSON.stringify(summary),
            summary.accepted > 0 ? null : `no trace accepted of ${summary.items} item(s)`,
          ],
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
