import { IsNull, MoreThanOrEqual, type EntityManager } from 'typeorm';
import type { RecordedEvent } from '@recon/eventlog';
import { MetricPointEntity } from '../entities';
import { insertRows, readModelTable, type Projector } from './projector';

/** The metric series an event contributes, as (name, value) at the event's step. */
export function metricPointsOf(event: RecordedEvent): Array<{ name: string; step: number; value: number }> {
  const points = (
    prefix: string,
    step: number,
    base: Record<string, number>,
    extra: Record<string, number>,
  ) => {
    const merged = { ...extra, ...base };
    return Object.keys(merged)
      .sort()
      .map((key) => ({ name: `${prefix}/${key}`, step, value: merged[key] }));
  };
  if (event.type === 'sft.step.completed') {
    const p = event.payload;
    return points(
      'sft',
      p.step,
      {
        loss: p.loss,
        learning_rate: p.learningRate,
        grad_norm: p.gradNorm,
        tokens: p.tokens,
        examples: p.examples,
      },
      p.metrics,
    );
  }
  if (event.type === 'grpo.step.completed') {
    const p = event.payload;
    return points(
      'grpo',
      p.step,
      {
        loss: p.loss,
        learning_rate: p.learningRate,
        grad_norm: p.gradNorm,
        reward_mean: p.rewardMean,
        reward_std: p.rewardStd,
        kl: p.kl,
      },
      p.metrics,
    );
  }
  return [];
}

/**
 * Per-step metric series. Rule for a point whose step is not above the series' last current step (a run
 * resumed from an earlier checkpoint, a replayed step): it is kept, becomes current, and every current point
 * of that series at the same or a later step is marked `superseded_by` the new point's event position.
 * Nothing is dropped; readers show current points by default and the full history on request.
 */
export class MetricsProjector implements Projector {
  readonly name = 'metrics';
  readonly tables = [readModelTable(MetricPointEntity)];
  private readonly lastStep = new Map<string, number>();

  readonly eventTypes = ['sft.step.completed', 'grpo.step.completed'];

  private async lastStepOf(manager: EntityManager, runId: string, name: string): Promise<number> {
    const key = `${runId}\u0000${name}`;
    const cached = this.lastStep.get(key);
    if (cached !== undefined) return cached;
    const rows: Array<{ step: number | null }> = await manager.query(
      'SELECT max(step) AS step FROM metric_points WHERE run_id = $1 AND name = $2 AND superseded_by IS NULL',
      [runId, name],
    );
    const step = rows[0]?.step ?? -1;
    this.lastStep.set(key, step);
    return step;
  }

  async apply(manager: EntityManager, events: RecordedEvent[]): Promise<void> {
    const pending: MetricPointEntity[] = [];
    for (const event of events) {
      const position = String(event.globalPosition);
      for (const point of metricPointsOf(event)) {
        const last = await this.lastStepOf(manager, event.streamId, point.name);
        if (point.step <= last) {
          for (const earlier of pending) {
            if (
              earlier.runId === event.streamId &&
              earlier.name === point.name &&
              earlier.step >= point.step
            ) {
              earlier.supersededBy ??= position;
            }
          }
          await manager.update(
            MetricPointEntity,
            {
              runId: event.streamId,
              name: point.name,
              step: MoreThanOrEqual(point.step),
              supersededBy: IsNull(),
            },
            { supersededBy: position },
          );
        }
        this.lastStep.set(`${event.streamId}\u0000${point.name}`, point.step);
        pending.push({
          runId: event.streamId,
          name: point.name,
          step: point.step,
          globalPosition: position,
          value: point.value,
          supersededBy: null,
        });
      }
    }
    await insertRows(manager, MetricPointEntity, pending);
  }

  async applyRange(): Promise<void> {}

  reset(): void {
    this.lastStep.clear();
  }
}
