import type { EntityManager } from 'typeorm';
import type { RecordedEvent } from '@recon/eventlog';
import type { PayloadOf } from '@recon/contracts';
import { insertRows, type Projector } from './projector';

interface Point {
  run_id: string;
  name: string;
  step: number;
  global_position: number;
  value: number;
  superseded_by: number | null;
}

/** The metric series an event contributes, as (name, value) at the event's step. */
export function metricPointsOf(event: RecordedEvent): Array<{ name: string; step: number; value: number }> {
  const points = (prefix: string, step: number, base: Record<string, number>, extra: Record<string, number>) => {
    const merged = { ...extra, ...base };
    return Object.keys(merged)
      .sort()
      .map((key) => ({ name: `${prefix}/${key}`, step, value: merged[key] }));
  };
  if (event.type === 'sft.step.completed') {
    const p = event.payload as PayloadOf<'sft.step.completed'>;
    return points(
      'sft',
      p.step,
      { loss: p.loss, learning_rate: p.learningRate, grad_norm: p.gradNorm, tokens: p.tokens, examples: p.examples },
      p.metrics,
    );
  }
  if (event.type === 'grpo.step.completed') {
    const p = event.payload as PayloadOf<'grpo.step.completed'>;
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
  readonly tables = [{ name: 'metric_points', orderBy: 'run_id, name, global_position' }];
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
    const pending: Point[] = [];
    for (const event of events) {
      for (const point of metricPointsOf(event)) {
        const last = await this.lastStepOf(manager, event.streamId, point.name);
        if (point.step <= last) {
          for (const earlier of pending) {
            if (earlier.run_id === event.streamId && earlier.name === point.name && earlier.step >= point.step) {
              earlier.superseded_by ??= event.globalPosition;
            }
          }
          await manager.query(
            `UPDATE metric_points SET superseded_by = $4
              WHERE run_id = $1 AND name = $2 AND step >= $3 AND superseded_by IS NULL`,
            [event.streamId, point.name, point.step, event.globalPosition],
          );
        }
        this.lastStep.set(`${event.streamId}\u0000${point.name}`, point.step);
        pending.push({
          run_id: event.streamId,
          name: point.name,
          step: point.step,
          global_position: event.globalPosition,
          value: point.value,
          superseded_by: null,
        });
      }
    }
    await insertRows(
      manager,
      'metric_points',
      [
        ['run_id', 'text'],
        ['name', 'text'],
        ['step', 'integer'],
        ['global_position', 'bigint'],
        ['value', 'double precision'],
        ['superseded_by', 'bigint'],
      ],
      pending as unknown as Array<Record<string, unknown>>,
    );
  }

  async applyRange(): Promise<void> {}

  reset(): void {
    this.lastStep.clear();
  }
}
