import type { RecordedEvent } from '@recon/eventlog';
import type { ReconMetrics } from './metrics';
import { readEnvironment } from '@recon/config';

/**
 * Updates the training, rollout, reward and evaluation metrics from one committed event. Metrics are
 * derived from the log (not set inside the workers), so they read the same in both deployments and a
 * metrics process can follow any run; wall-clock figures come from the events' meta.
 */
/** Event types that make progress in a training run (see libs/contracts). */
const RUN_EVENT_PREFIXES = [
  'run.',
  'dataset.',
  'tokenizer.',
  'policy.',
  'sft.',
  'grpo.',
  'rollout',
  'reward.',
  'evaluation.',
  'checkpoint.',
  'game.',
];

export function recordRunEvent(metrics: ReconMetrics, event: RecordedEvent): void {
  const run = event.streamId;
  const meta = event.meta as Record<string, unknown>;
  const metaNumber = (key: string) => (typeof meta[key] === 'number' ? (meta[key] as number) : undefined);
  const occurred = Date.parse(event.occurredAt);
  // Only runs' streams (platform streams such as access tokens are not runs).
  if (Number.isFinite(occurred) && RUN_EVENT_PREFIXES.some((prefix) => event.type.startsWith(prefix)))
    metrics.runLastEventTimestamp.set({ run }, occurred / 1000);
  switch (event.type) {
    case 'sft.step.completed':
    case 'grpo.step.completed': {
      const phase = event.type === 'sft.step.completed' ? 'sft' : 'grpo';
      const p = event.payload;
      metrics.trainingStep.set({ run, phase }, p.step);
      metrics.trainingLoss.set({ run, phase }, p.loss);
      metrics.trainingGradNorm.set({ run, phase }, p.gradNorm);
      metrics.trainingLearningRate.set({ run, phase }, p.learningRate);
      const ms = metaNumber('stepTimeMs');
      if (ms !== undefined) {
        metrics.trainingStepSeconds.observe({ phase, part: 'update' }, ms / 1000);
        if ('tokens' in p && ms > 0)
          metrics.trainingTokensPerSecond.set({ run, phase }, p.tokens / (ms / 1000));
      }
      if ('kl' in p) metrics.trainingKl.set({ run }, p.kl);
      break;
    }
    case 'rollout.generated': {
      const p = event.payload;
      metrics.rolloutCompletions.inc({ run });
      metrics.rolloutTokens.inc({ run }, p.completionTokens);
      // One generation call produces the whole batch; observe its time once, on the batch's first rollout.
      const ms = metaNumber('generationMs');
      if (ms !== undefined && metaNumber('batchIndex') === 0) {
        metrics.rolloutLatency.observe({ run }, ms / 1000);
        metrics.trainingStepSeconds.observe({ phase: 'grpo', part: 'generation' }, ms / 1000);
      }
      break;
    }
    case 'reward.scored': {
      const p = event.payload;
      metrics.rewardScore.observe({ reward_id: p.rewardId, component: 'total' }, p.total);
      for (const [component, value] of Object.entries(p.components))
        metrics.rewardScore.observe({ reward_id: p.rewardId, component }, value);
      const ms = metaNumber('durationMs');
      if (ms !== undefined) metrics.rewardLatency.observe({ reward_id: p.rewardId }, ms / 1000);
      break;
    }
    case 'reward.failed':
      metrics.rewardFailures.inc({ reward_id: event.payload.rewardId });
      break;
    case 'evaluation.completed': {
      const p = event.payload;
      for (const [key, value] of Object.entries(p.results)) {
        const accuracy = /^([a-z-]+)\.accuracy$/.exec(key);
        const category = /^([a-z-]+)\.category\.(.+)\.accuracy$/.exec(key);
        const ne = /^complete-info\.(.+)\.ne$/.exec(key);
        const win = /^gtbench\.(.+)\.([a-z-]+)\.winRate$/.exec(key);
        if (accuracy)
          metrics.evalAccuracy.set({ run, suite: accuracy[1], stage: p.stage, category: 'all' }, value);
        else if (category)
          metrics.evalAccuracy.set({ run, suite: category[1], stage: p.stage, category: category[2] }, value);
        else if (ne && ne[1] !== 'overall')
          metrics.gameEquilibriumFrequency.set({ run, stage: p.stage, game: ne[1] }, value);
        else if (win && win[1] !== 'overall')
          metrics.gameWinRate.set({ run, stage: p.stage, game: win[1], opponent: win[2] }, value);
      }
      break;
    }
  }
}

export interface MetricsBus {
  subscribe(
    options: { group: string; startAt?: 'earliest' | 'latest' },
    handler: (event: RecordedEvent) => Promise<void>,
  ): Promise<{ stop(): Promise<void> }>;
}

/** The events after which a run's series stop changing. */
const RUN_END_TYPES = new Set(['run.completed', 'run.failed']);

/**
 * Seconds a finished run's series stay exported (RECON_RUN_SERIES_TTL_SECONDS, default 300): long enough
 * for several scrapes of the final values, short enough that a long-lived exporter's series stay bounded by
 * the runs of the last few minutes.
 */
export function runSeriesTtlMsFromEnv(): number {
  return (readEnvironment('RECON_RUN_SERIES_TTL_SECONDS') ?? 300) * 1000;
}

/** The metrics labelled by run (see createMetrics). */
function perRunMetrics(metrics: ReconMetrics) {
  return [
    metrics.runLastEventTimestamp,
    metrics.trainingStep,
    metrics.trainingLoss,
    metrics.trainingKl,
    metrics.trainingGradNorm,
    metrics.trainingLearningRate,
    metrics.trainingTokensPerSecond,
    metrics.rolloutCompletions,
    metrics.rolloutTokens,
    metrics.rolloutLatency,
    metrics.evalAccuracy,
    metrics.gameEquilibriumFrequency,
    metrics.gameWinRate,
  ];
}

/** Removes every series of one run (a histogram's by its labels without `le`). */
export async function removeRunSeries(metrics: ReconMetrics, run: string): Promise<void> {
  for (const metric of perRunMetrics(metrics)) {
    const { values } = await metric.get();
    for (const { labels } of values) {
      if (labels.run !== run) continue;
      const { le: _bucket, ...series } = labels as Record<string, string | number>;
      (metric as unknown as { remove(labels: Record<string, string | number>): void }).remove(series);
    }
  }
}

/**
 * Follows the log with its own consumer group and keeps the run metrics current (from now on); a run's
 * series are removed `runSeriesTtlMs` after its run.completed or run.failed.
 */
export async function followRunMetrics(
  bus: MetricsBus,
  metrics: ReconMetrics,
  group = 'metrics',
  runSeriesTtlMs = runSeriesTtlMsFromEnv(),
): Promise<{ stop(): Promise<void>; position(): number }> {
  let position = 0;
  const retiring = new Map<string, NodeJS.Timeout>();
  const consumer = await bus.subscribe({ group, startAt: 'latest' }, async (event) => {
    recordRunEvent(metrics, event);
    position = Math.max(position, event.globalPosition);
    if (!RUN_END_TYPES.has(event.type)) return;
    clearTimeout(retiring.get(event.streamId));
    const timer = setTimeout(() => {
      retiring.delete(event.streamId);
      void removeRunSeries(metrics, event.streamId);
    }, runSeriesTtlMs);
    timer.unref();
    retiring.set(event.streamId, timer);
  });
  return {
    position: () => position,
    stop: async () => {
      retiring.forEach((timer) => clearTimeout(timer));
      retiring.clear();
      await consumer.stop();
    },
  };
}
