import type { PayloadOf } from '@recon/contracts';
import type { RecordedEvent } from '@recon/eventlog';
import type { ReconMetrics } from './metrics';

/**
 * Updates the training, rollout, reward and evaluation metrics from one committed event. Metrics are
 * derived from the log (not set inside the workers), so they read the same in both deployments and a
 * metrics process can follow any run; wall-clock figures come from the events' meta.
 */
export function recordRunEvent(metrics: ReconMetrics, event: RecordedEvent): void {
  const run = event.streamId;
  const meta = event.meta as Record<string, unknown>;
  const metaNumber = (key: string) => (typeof meta[key] === 'number' ? (meta[key] as number) : undefined);
  switch (event.type) {
    case 'sft.step.completed':
    case 'grpo.step.completed': {
      const phase = event.type === 'sft.step.completed' ? 'sft' : 'grpo';
      const p = event.payload as PayloadOf<'sft.step.completed'> | PayloadOf<'grpo.step.completed'>;
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
      const p = event.payload as PayloadOf<'rollout.generated'>;
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
      const p = event.payload as PayloadOf<'reward.scored'>;
      metrics.rewardScore.observe({ reward_id: p.rewardId, component: 'total' }, p.total);
      for (const [component, value] of Object.entries(p.components))
        metrics.rewardScore.observe({ reward_id: p.rewardId, component }, value);
      const ms = metaNumber('durationMs');
      if (ms !== undefined) metrics.rewardLatency.observe({ reward_id: p.rewardId }, ms / 1000);
      break;
    }
    case 'reward.failed':
      metrics.rewardFailures.inc({ reward_id: (event.payload as PayloadOf<'reward.failed'>).rewardId });
      break;
    case 'evaluation.completed': {
      const p = event.payload as PayloadOf<'evaluation.completed'>;
      for (const [key, value] of Object.entries(p.results)) {
        const accuracy = /^([a-z-]+)\.accuracy$/.exec(key);
        const category = /^([a-z-]+)\.category\.(.+)\.accuracy$/.exec(key);
        const ne = /^complete-info\.(.+)\.ne$/.exec(key);
        const win = /^gtbench\.(.+)\.([a-z-]+)\.winRate$/.exec(key);
        if (accuracy)
          metrics.evalAccuracy.set({ run, suite: accuracy[1], stage: p.stage, category: 'all' }, value);
        else if (category)
          metrics.evalAccuracy.set({ run, suite: category[1], stage: p.stage, category: category[2] }, value);
        else if (ne && ne[1] !== 'overall') metrics.gameEquilibriumFrequency.set({ run, stage: p.stage, game: ne[1] }, value);
        else if (win && win[1] !== 'overall') metrics.gameWinRate.set({ run, stage: p.stage, game: win[1], opponent: win[2] }, value);
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

/** Follows the log with its own consumer group and keeps the run metrics current (from now on). */
export async function followRunMetrics(
  bus: MetricsBus,
  metrics: ReconMetrics,
  group = 'metrics',
): Promise<{ stop(): Promise<void> }> {
  return bus.subscribe({ group, startAt: 'latest' }, async (event) => recordRunEvent(metrics, event));
}
