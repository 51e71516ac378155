import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * Every metric Recon exports, defined once. Label cardinality is bounded: `run` appears only on the
 * per-run training and evaluation gauges a dashboard selects by (bounded by the runs a process works on at
 * once, one to a few); event types, services, games, suites, reward ids and components are closed sets.
 */
export function createMetrics(registry: Registry = new Registry(), service = 'recon') {
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  return defineMetrics(registry);
}

/**
 * The Recon metrics alone, in a registry that already has its default labels and process metrics (a
 * service's /metrics registry); createMetrics makes such a registry first.
 */
export function defineMetrics(registry: Registry) {
  return {
    registry,
    // runs
    runLastEventTimestamp: new Gauge({
      name: 'recon_run_last_event_timestamp_seconds',
      help: 'When the last event of the run was recorded (a run that stops progressing stops moving this)',
      labelNames: ['run'],
      registers: [registry],
    }),
    // training
    trainingStep: new Gauge({
      name: 'recon_training_step',
      help: 'Last completed optimiser step',
      labelNames: ['run', 'phase'],
      registers: [registry],
    }),
    trainingLoss: new Gauge({
      name: 'recon_training_loss',
      help: 'Loss of the last step',
      labelNames: ['run', 'phase'],
      registers: [registry],
    }),
    trainingKl: new Gauge({
      name: 'recon_training_kl',
      help: 'KL to the reference policy (GRPO)',
      labelNames: ['run'],
      registers: [registry],
    }),
    trainingGradNorm: new Gauge({
      name: 'recon_training_grad_norm',
      help: 'Global gradient norm before clipping',
      labelNames: ['run', 'phase'],
      registers: [registry],
    }),
    trainingLearningRate: new Gauge({
      name: 'recon_training_learning_rate',
      help: 'Learning rate of the last step',
      labelNames: ['run', 'phase'],
      registers: [registry],
    }),
    trainingTokensPerSecond: new Gauge({
      name: 'recon_training_tokens_per_second',
      help: 'Training throughput of the last step',
      labelNames: ['run', 'phase'],
      registers: [registry],
    }),
    trainingStepSeconds: new Histogram({
      name: 'recon_training_step_seconds',
      help: 'Wall time of a training step by part (generation, reward, update, platform)',
      labelNames: ['phase', 'part'],
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers: [registry],
    }),
    // rollout
    rolloutCompletions: new Counter({
      name: 'recon_rollout_completions_total',
      help: 'Completions generated',
      labelNames: ['run'],
      registers: [registry],
    }),
    rolloutTokens: new Counter({
      name: 'recon_rollout_tokens_total',
      help: 'Completion tokens generated',
      labelNames: ['run'],
      registers: [registry],
    }),
    rolloutLatency: new Histogram({
      name: 'recon_rollout_latency_seconds',
      help: 'Time to generate one batch of completions',
      labelNames: ['run'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
      registers: [registry],
    }),
    // reward
    rewardScore: new Histogram({
      name: 'recon_reward_score',
      help: 'Reward totals and components per reward id',
      labelNames: ['reward_id', 'component'],
      buckets: [-5, -4, -3, -2, -1, 0, 1, 2, 3, 4, 5, 6],
      registers: [registry],
    }),
    rewardLatency: new Histogram({
      name: 'recon_reward_latency_seconds',
      help: 'Time to score one rollout',
      labelNames: ['reward_id'],
      buckets: [0.0001, 0.001, 0.01, 0.1, 1],
      registers: [registry],
    }),
    rewardFailures: new Counter({
      name: 'recon_reward_failures_total',
      help: 'Rollouts a reward service failed to score',
      labelNames: ['reward_id'],
      registers: [registry],
    }),
    // evaluation
    evalAccuracy: new Gauge({
      name: 'recon_eval_accuracy',
      help: 'Accuracy per suite, stage and category',
      labelNames: ['run', 'suite', 'stage', 'category'],
      registers: [registry],
    }),
    gameEquilibriumFrequency: new Gauge({
      name: 'recon_game_equilibrium_frequency',
      help: 'Share of self-play trials ending in equilibrium',
      labelNames: ['run', 'stage', 'game'],
      registers: [registry],
    }),
    gameWinRate: new Gauge({
      name: 'recon_game_win_rate',
      help: 'Win rate per game and opponent',
      labelNames: ['run', 'stage', 'game', 'opponent'],
      registers: [registry],
    }),
    // The event-pipeline series are read from the log at scrape time (event-pipeline-metrics.ts) and
    // counted by each consumer (event-bus-metrics.ts).
  };
}

export type ReconMetrics = ReturnType<typeof createMetrics>;
