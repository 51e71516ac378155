import type { EntityManager } from 'typeorm';
import type { RecordedEvent, RecordedEventOf } from '@recon/eventlog';
import type { PayloadOf } from '@recon/contracts';
import { RunEntity } from '../entities';
import { columnNames, tableDefinition } from '../entities/table-definition';
import { redactUrl } from '../redact-url';
import { insertRows, rangeCondition, readModelTable, type LogRange, type Projector } from './projector';

/** A run's row as its opening event makes it: not finished, no events counted yet (applyRange counts them). */
type OpenedRun = Omit<
  RunEntity,
  'finishedAt' | 'failure' | 'summary' | 'eventCount' | 'lastPosition' | 'lastEventAt'
>;

function opened(row: OpenedRun): RunEntity {
  return {
    ...row,
    finishedAt: null,
    failure: null,
    summary: null,
    eventCount: 0,
    lastPosition: 0,
    lastEventAt: row.requestedAt,
  };
}

/** The policy a run config names: a built-in model, or an OpenAI-compatible endpoint (its URL redacted). */
function configuredModel(config: Record<string, unknown>): { model: string; baseUrl: string | null } {
  const policy = config.policy as { kind?: string; model?: string; baseUrl?: string } | undefined;
  if (policy?.kind === 'openai' && policy.model && policy.baseUrl)
    return { model: policy.model, baseUrl: redactUrl(policy.baseUrl) };
  return { model: policy?.kind ?? 'builtin', baseUrl: null };
}

function trainingRunRow(event: RecordedEventOf<'run.requested'>): RunEntity {
  const { payload } = event;
  return opened({
    runId: event.streamId,
    kind: 'training',
    name: payload.name,
    status: 'requested',
    seed: String(payload.seed),
    configHash: payload.configHash,
    requestedBy: payload.requestedBy,
    codeVersion: payload.codeVersion,
    requestedAt: event.occurredAt,
    ...configuredModel(payload.config),
    parentRunId: payload.parent?.runId ?? null,
    parentStep: payload.parent?.step ?? null,
    changedKeys: payload.parent?.changedKeys ?? null,
  });
}

/** An external evaluation's request is its whole configuration, so its payload hash stands as the config hash. */
function externalEvaluationRow(event: RecordedEventOf<'external.evaluation.requested'>): RunEntity {
  const { payload } = event;
  return opened({
    runId: event.streamId,
    kind: 'external-eval',
    name: payload.policy.model,
    status: 'requested',
    seed: String(payload.seed),
    configHash: event.payloadHash,
    requestedBy: payload.requestedBy,
    codeVersion: payload.codeVersion,
    requestedAt: event.occurredAt,
    model: payload.policy.model,
    baseUrl: redactUrl(payload.policy.baseUrl),
    parentRunId: null,
    parentStep: null,
    changedKeys: null,
  });
}

/** A distillation job (`recon dataset distill`): its teacher is the model, its source dataset the name. */
function distillationJobRow(event: RecordedEventOf<'distillation.requested'>): RunEntity {
  const { payload } = event;
  return opened({
    runId: event.streamId,
    kind: 'distillation',
    name: payload.source.name,
    status: 'requested',
    seed: '0',
    configHash: event.payloadHash,
    requestedBy: payload.requestedBy,
    codeVersion: payload.codeVersion,
    requestedAt: event.occurredAt,
    model: payload.teacher.model,
    baseUrl: redactUrl(payload.teacher.baseUrl),
    parentRunId: null,
    parentStep: null,
    changedKeys: null,
  });
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
 * status, model, lineage, how many events its stream holds and when the last one occurred. A distillation
 * job is completed once a run of it accepted a trace, failed when every item was rejected; its summary holds
 * the counts.
 */
export class RunsProjector implements Projector {
  readonly name = 'runs';
  readonly tables = [readModelTable(RunEntity)];

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
    await insertRows(manager, RunEntity, created);
    for (const event of events) {
      const run = { runId: event.streamId };
      if (event.type === 'run.completed') {
        await manager.update(RunEntity, run, {
          status: 'completed',
          finishedAt: event.occurredAt,
          summary: event.payload.summary,
        });
      } else if (event.type === 'external.evaluation.resumed') {
        await manager.update(RunEntity, run, { status: 'requested', finishedAt: null, failure: null });
      } else if (event.type === 'distillation.completed') {
        const summary = distillationSummary(event.payload);
        await manager.update(RunEntity, run, {
          status: summary.accepted > 0 ? 'completed' : 'failed',
          finishedAt: event.occurredAt,
          summary,
          failure: summary.accepted > 0 ? null : `no trace accepted of ${summary.items} item(s)`,
        });
      } else if (event.type === 'run.failed') {
        await manager.update(RunEntity, run, {
          status: 'failed',
          finishedAt: event.occurredAt,
          failure: `${event.payload.phase}: ${event.payload.error}`,
        });
      }
    }
  }

  /**
   * Event counts per run are taken in PostgreSQL over the whole range, whatever the event types, with the
   * position and occurredAt of the run's last event in it (ranges are applied in log order).
   */
  async applyRange(manager: EntityManager, range: LogRange): Promise<void> {
    const condition = rangeCondition(range);
    const runs = tableDefinition(RunEntity).name;
    const { runId, eventCount, lastPosition, lastEventAt } = columnNames(RunEntity);
    await manager.query(
      `UPDATE ${runs} SET ${eventCount} = ${runs}.${eventCount} + c.n, ${lastPosition} = c.last,
                          ${lastEventAt} = c.last_at
         FROM (SELECT e.stream_id, count(*)::int AS n, max(e.position) AS last,
                      (array_agg(e.occurred_at ORDER BY e.position DESC))[1] AS last_at
                 FROM recon_events e
                WHERE ${condition.sql} GROUP BY e.stream_id) c
        WHERE ${runs}.${runId} = c.stream_id`,
      condition.params,
    );
  }

  reset(): void {}
}
