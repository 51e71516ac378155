import { stringify } from 'yaml';
import type { PayloadOf } from '@recon/contracts';
import type { RecordedEvent } from '@recon/eventlog';
import { payloadsOf } from './report-format';
import { buildRunReport } from './run-report';
import { reportBlocks, type ReportBlock } from './report-blocks';

/** One point per step of a training curve; a value is absent when the step did not record it. */
export interface SeriesPoint {
  step: number;
  [metric: string]: number;
}

/** What the explorer's run page shows, built only from the run's events (as the report is). */
export interface RunView {
  runId: string;
  name: string | null;
  events: number;
  lastPosition: number;
  configYaml: string | null;
  configHash: string | null;
  seed: number | null;
  datasets: Array<PayloadOf<'dataset.resolved'>['datasets'][number]>;
  checkpoints: Array<PayloadOf<'checkpoint.saved'>>;
  /** SFT: loss, learningRate, gradNorm, tokensPerSecond (from the time between step events). */
  sft: SeriesPoint[];
  /** GRPO: rewardMean, rewardStd, kl, gradNorm, learningRate, loss and the mean of each reward component. */
  grpo: SeriesPoint[];
  /** The GRPO steps that have scored rollouts (the group viewer's steps). */
  rolloutSteps: number[];
  /** Finished game matches and trials (the replay viewer's list). */
  matches: number;
  /** The run report (tables 3-5, samples) as blocks; the markdown report's own words and numbers. */
  report: ReportBlock[];
}

const mean = (values: readonly number[]) => values.reduce((a, b) => a + b, 0) / values.length;

/** Mean of each reward component per GRPO step, over the step's scored rollouts. */
function componentMeans(events: readonly RecordedEvent[]): Map<number, Record<string, number>> {
  const byStep = new Map<number, Map<string, number[]>>();
  for (const scored of payloadsOf(events, 'reward.scored')) {
    const step = byStep.get(scored.step) ?? new Map<string, number[]>();
    byStep.set(scored.step, step);
    for (const [name, value] of Object.entries(scored.components)) {
      step.set(name, [...(step.get(name) ?? []), value]);
    }
  }
  return new Map(
    [...byStep].map(([step, components]) => [
      step,
      Object.fromEntries([...components].map(([name, values]) => [`reward.${name}`, mean(values)])),
    ]),
  );
}

/** The training curves (SFT and GRPO, one point per step) and the GRPO steps that have scored rollouts. */
export function trainingSeries(
  events: readonly RecordedEvent[],
): Pick<RunView, 'sft' | 'grpo' | 'rolloutSteps'> {
  const sftEvents = events.filter((e) => e.type === 'sft.step.completed');
  const sft = sftEvents.map((event, i) => {
    const p = event.payload;
    const point: SeriesPoint = {
      step: p.step,
      loss: p.loss,
      learningRate: p.learningRate,
      gradNorm: p.gradNorm,
    };
    const seconds =
      i > 0 ? (Date.parse(event.occurredAt) - Date.parse(sftEvents[i - 1].occurredAt)) / 1000 : 0;
    if (seconds > 0) point.tokensPerSecond = p.tokens / seconds;
    return point;
  });
  const components = componentMeans(events);
  const grpo = payloadsOf(events, 'grpo.step.completed').map((p): SeriesPoint => ({
    step: p.step,
    rewardMean: p.rewardMean,
    rewardStd: p.rewardStd,
    kl: p.kl,
    gradNorm: p.gradNorm,
    learningRate: p.learningRate,
    loss: p.loss,
    ...components.get(p.step),
  }));
  return { sft, grpo, rolloutSteps: [...components.keys()].sort((a, b) => a - b) };
}

export function buildRunView(runId: string, events: readonly RecordedEvent[]): RunView {
  const requested = payloadsOf(events, 'run.requested')[0];
  const external = payloadsOf(events, 'external.evaluation.requested')[0];
  return {
    runId,
    name: requested?.name ?? external?.policy.model ?? null,
    events: events.length,
    lastPosition: events[events.length - 1]?.position ?? 0,
    configYaml: requested ? stringify(requested.config) : external ? stringify(external) : null,
    configHash: requested?.configHash ?? null,
    seed: requested?.seed ?? external?.seed ?? null,
    datasets: payloadsOf(events, 'dataset.resolved')[0]?.datasets ?? [],
    checkpoints: payloadsOf(events, 'checkpoint.saved'),
    ...trainingSeries(events),
    matches: events.filter((e) => e.type === 'game.finished' && !e.tombstonedBy).length,
    report: reportBlocks(buildRunReport(runId, events)),
  };
}
