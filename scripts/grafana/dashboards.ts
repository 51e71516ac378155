/**
 * The Grafana dashboards of grafana/dashboards, built from code: every panel gets the datasource variable,
 * the namespace and job selectors and a unit; counters are plotted as rate() or increase(), histograms as
 * histogram_quantile() over rate(...[$__rate_interval]). Regenerate with
 * `node dist/scripts/grafana/build-dashboards.js` after the swc build; test/observability/dashboard-builder.test.ts
 * fails when a committed file differs from what this builds.
 */

/** A Grafana unit id (https://grafana.com/docs/grafana/latest/panels-visualizations/configure-standard-options/#unit) or a custom `suffix:<text>`. */
export type Unit = 'none' | 's' | 'bytes' | 'percentunit' | 'sci' | `suffix:${string}`;

export interface Query {
  expr: string;
  legend: string;
}

export interface PanelSpec {
  title: string;
  description: string;
  unit: Unit;
  queries: Query[];
  kind?: 'timeseries' | 'stat';
}

export interface DashboardSpec {
  file: string;
  uid: string;
  title: string;
  /** Whether the panels select runs ($run). */
  perRun: boolean;
  /**
   * Panels read the operators' exporters (Strimzi's Kafka Exporter, CloudNativePG's), which exist only in a
   * cluster: the dashboard is tagged `operators`, and the tests that need data in every panel skip it.
   */
  operators?: boolean;
  panels: PanelSpec[];
}

const DATASOURCE = { type: 'prometheus', uid: '${datasource}' };

/** The selector every query carries: the deployment (namespace) and scrape job. */
export function sel(...extra: string[]): string {
  return `{${['namespace=~"$namespace"', 'job=~"$job"', ...extra].join(', ')}}`;
}

const RUN = 'run=~"$run"';
const SERVICE = 'service=~"$service"';
const RATE = '[$__rate_interval]';

/** Quantile of a histogram's rate over the window, grouped by `by` (plus le). */
function quantile(q: number, metric: string, by: string, ...extra: string[]): string {
  return `histogram_quantile(${q}, sum by (le, ${by}) (rate(${metric}_bucket${sel(...extra)}${RATE})))`;
}

/** Mean of a histogram over the window: rate of its sum over rate of its count. */
function windowMean(metric: string, by: string, ...extra: string[]): string {
  return `sum by (${by}) (rate(${metric}_sum${sel(...extra)}${RATE})) / sum by (${by}) (rate(${metric}_count${sel(...extra)}${RATE}))`;
}

const q = (expr: string, legend: string): Query => ({ expr, legend });

export const DASHBOARDS: DashboardSpec[] = [
  {
    file: 'event-pipeline.json',
    uid: 'recon-event-pipeline',
    title: 'Recon / Event Pipeline',
    perRun: false,
    panels: [
      {
        title: 'Events in the log by type',
        description: 'Committed events per type (read from the log at scrape time).',
        unit: 'suffix: events',
        queries: [q(`max by (type) (recon_log_events${sel()})`, '{{type}}')],
      },
      {
        title: 'Append rate (events/s)',
        description: 'How fast the log head moves.',
        unit: 'suffix: events/s',
        queries: [q(`max(deriv(recon_log_head_position${sel()}${RATE}))`, 'appends')],
      },
      {
        title: 'Log head position',
        description: 'Global position of the last committed event.',
        unit: 'none',
        kind: 'stat',
        queries: [q(`max(recon_log_head_position${sel()})`, 'head')],
      },
      {
        title: 'Streams',
        description: 'Runs and platform streams in the log.',
        unit: 'none',
        kind: 'stat',
        queries: [q(`max(recon_log_streams${sel()})`, 'streams')],
      },
      {
        title: 'Projection lag by projector (events)',
        description: 'Committed events a read model has not applied; the api keeps it near 0 continuously.',
        unit: 'suffix: events',
        queries: [q(`max by (projector) (recon_projection_lag_events${sel()})`, '{{projector}}')],
      },
      {
        title: 'Consumer lag by group (events)',
        description:
          "Events a consumer group has not read: from Kafka's group offsets over Kafka, from the log in-process.",
        unit: 'suffix: events',
        queries: [q(`max by (group) (recon_consumer_lag_events${sel()})`, '{{group}}')],
      },
      {
        title: 'Service CPU (cores)',
        description: 'CPU time per second of each service.',
        unit: 'suffix: cores',
        queries: [
          q(`sum by (service) (rate(process_cpu_seconds_total${sel(SERVICE)}${RATE}))`, '{{service}}'),
        ],
      },
      {
        title: 'Service resident memory',
        description: 'Resident set size of each service (largest pod).',
        unit: 'bytes',
        queries: [q(`max by (service) (process_resident_memory_bytes${sel(SERVICE)})`, '{{service}}')],
      },
      {
        title: 'Events consumed by group (events/s)',
        description: 'Events handled per second, summed over the members of each group.',
        unit: 'suffix: events/s',
        queries: [q(`sum by (group) (rate(recon_events_consumed_total${sel(SERVICE)}${RATE}))`, '{{group}}')],
      },
      {
        title: 'Pipeline errors',
        description: 'Handler and bus errors in each interval; a pod exits after its error was scraped.',
        unit: 'suffix: errors',
        queries: [
          q(
            `sum by (service, where) (increase(recon_pipeline_errors_total${sel(SERVICE)}${RATE}))`,
            '{{service}} {{where}}',
          ),
        ],
      },
      {
        title: 'Outbox relay lag by topic (events)',
        description: 'Events committed to the log and not yet in Kafka (distributed deployment only).',
        unit: 'suffix: events',
        queries: [q(`max by (topic) (recon_relay_lag_events${sel()})`, '{{topic}}')],
      },
    ],
  },
  {
    file: 'rollout-reward.json',
    uid: 'recon-rollout-reward',
    title: 'Recon — Rollout and Reward',
    perRun: true,
    panels: [
      {
        title: 'Completions per second',
        description: 'Completions generated per second, per run.',
        unit: 'suffix: completions/s',
        queries: [q(`sum by (run) (rate(recon_rollout_completions_total${sel(RUN)}${RATE}))`, '{{run}}')],
      },
      {
        title: 'Completion tokens per second',
        description: 'Completion tokens generated per second, per run.',
        unit: 'suffix: tokens/s',
        queries: [q(`sum by (run) (rate(recon_rollout_tokens_total${sel(RUN)}${RATE}))`, '{{run}}')],
      },
      {
        title: 'Generation latency',
        description: 'Time to generate one batch: p50 and p95 over the window.',
        unit: 's',
        queries: [
          q(quantile(0.5, 'recon_rollout_latency_seconds', 'run', RUN), 'p50 {{run}}'),
          q(quantile(0.95, 'recon_rollout_latency_seconds', 'run', RUN), 'p95 {{run}}'),
        ],
      },
      {
        title: 'Reward by component',
        description: 'Mean reward total and components over the window, per reward id.',
        unit: 'none',
        queries: [q(windowMean('recon_reward_score', 'reward_id, component'), '{{reward_id}} {{component}}')],
      },
      {
        title: 'Reward score distribution',
        description: 'Quantiles of the reward total over the window, per reward id.',
        unit: 'none',
        queries: [
          q(quantile(0.05, 'recon_reward_score', 'reward_id', 'component="total"'), 'p5 {{reward_id}}'),
          q(quantile(0.5, 'recon_reward_score', 'reward_id', 'component="total"'), 'p50 {{reward_id}}'),
          q(quantile(0.95, 'recon_reward_score', 'reward_id', 'component="total"'), 'p95 {{reward_id}}'),
        ],
      },
      {
        title: 'Reward latency',
        description: 'Time to score one rollout: p95 over the window, per reward id.',
        unit: 's',
        queries: [q(quantile(0.95, 'recon_reward_latency_seconds', 'reward_id'), 'p95 {{reward_id}}')],
      },
      {
        title: 'Reward failures',
        description: 'Rollouts a reward service failed to score in each interval (0 when none failed).',
        unit: 'suffix: rollouts',
        queries: [
          q(
            `sum by (reward_id) (increase(recon_reward_failures_total${sel()}${RATE})) or on() vector(0)`,
            '{{reward_id}}',
          ),
        ],
      },
    ],
  },
  {
    file: 'training.json',
    uid: 'recon-training',
    title: 'Recon — Training',
    perRun: true,
    panels: [
      gauge('Loss', 'Loss of the last step.', 'none', 'recon_training_loss', '{{run}} {{phase}}'),
      gauge(
        'Optimiser step',
        'Last completed optimiser step.',
        'none',
        'recon_training_step',
        '{{run}} {{phase}}',
      ),
      gauge(
        'KL to the reference (GRPO)',
        'KL to the reference policy.',
        'none',
        'recon_training_kl',
        '{{run}}',
      ),
      gauge(
        'Gradient norm',
        'Global gradient norm before clipping.',
        'none',
        'recon_training_grad_norm',
        '{{run}} {{phase}}',
      ),
      gauge(
        'Learning rate',
        'Learning rate of the last step.',
        'sci',
        'recon_training_learning_rate',
        '{{run}} {{phase}}',
      ),
      gauge(
        'Training tokens/s',
        'Training throughput of the last step.',
        'suffix: tokens/s',
        'recon_training_tokens_per_second',
        '{{run}} {{phase}}',
      ),
      {
        title: 'Step time by part',
        description: 'Seconds per step and part (update, generation): mean and p95 over the window.',
        unit: 's',
        queries: [
          q(windowMean('recon_training_step_seconds', 'phase, part'), 'mean {{phase}} {{part}}'),
          q(quantile(0.95, 'recon_training_step_seconds', 'phase, part'), 'p95 {{phase}} {{part}}'),
        ],
      },
    ],
  },
  {
    file: 'evaluation-games.json',
    uid: 'recon-evaluation-games',
    title: 'Recon — Evaluation and Games',
    perRun: true,
    panels: [
      {
        title: 'Held-out accuracy by stage',
        description: 'Accuracy per suite and stage.',
        unit: 'percentunit',
        queries: [
          q(
            `max by (run, suite, stage) (recon_eval_accuracy${sel(RUN, 'category="all"')})`,
            '{{run}} {{suite}} {{stage}}',
          ),
        ],
      },
      {
        title: 'Accuracy by category',
        description: 'Accuracy per suite, stage and category.',
        unit: 'percentunit',
        queries: [
          q(
            `max by (run, suite, stage, category) (recon_eval_accuracy${sel(RUN, 'category!="all"')})`,
            '{{run}} {{stage}} {{category}}',
          ),
        ],
      },
      {
        title: 'Nash-equilibrium frequency',
        description: 'Share of self-play trials ending in equilibrium, per game and stage.',
        unit: 'percentunit',
        queries: [
          q(
            `max by (run, stage, game) (recon_game_equilibrium_frequency${sel(RUN)})`,
            '{{run}} {{stage}} {{game}}',
          ),
        ],
      },
      {
        title: 'Win rate against fixed opponents',
        description: 'Win rate per game and opponent, per stage.',
        unit: 'percentunit',
        queries: [
          q(
            `max by (run, stage, game, opponent) (recon_game_win_rate${sel(RUN)})`,
            '{{run}} {{stage}} {{game}} vs {{opponent}}',
          ),
        ],
      },
    ],
  },
  {
    file: 'platform.json',
    uid: 'recon-platform',
    title: 'Recon — Kafka and PostgreSQL',
    perRun: false,
    operators: true,
    panels: [
      {
        title: 'Kafka consumer lag by group (messages)',
        description:
          "Strimzi's Kafka Exporter: messages of the events topic beyond each group's committed offset.",
        unit: 'suffix: messages',
        queries: [q(`sum by (consumergroup) (kafka_consumergroup_lag${sel()})`, '{{consumergroup}}')],
      },
      {
        title: 'Kafka messages in per second',
        description: 'Messages appended to the events topic per second (high-water marks).',
        unit: 'suffix: messages/s',
        queries: [
          q(`sum by (topic) (rate(kafka_topic_partition_current_offset${sel()}${RATE}))`, '{{topic}}'),
        ],
      },
      {
        title: 'Kafka under-replicated partitions',
        description: 'Partitions with fewer in-sync replicas than replicas.',
        unit: 'none',
        queries: [
          q(`sum by (topic) (kafka_topic_partition_under_replicated_partition${sel()})`, '{{topic}}'),
        ],
      },
      {
        title: 'PostgreSQL up',
        description: "CloudNativePG's exporter reaching PostgreSQL on each instance (1 up, 0 down).",
        unit: 'none',
        queries: [q(`max by (pod) (cnpg_collector_up${sel()})`, '{{pod}}')],
      },
      {
        title: 'PostgreSQL connections',
        description: 'Backends per instance (what max_connections bounds).',
        unit: 'suffix: connections',
        queries: [q(`sum by (pod) (cnpg_backends_total${sel()})`, '{{pod}}')],
      },
      {
        title: 'PostgreSQL database size',
        description: 'Size of each database (the event log and read models live in recon).',
        unit: 'bytes',
        queries: [q(`max by (datname) (cnpg_pg_database_size_bytes${sel()})`, '{{datname}}')],
      },
      {
        title: 'PostgreSQL WAL archiving failures',
        description: 'WAL segments that failed to archive to the object store in each interval (backups).',
        unit: 'suffix: segments',
        queries: [q(`sum by (pod) (increase(cnpg_pg_stat_archiver_failed_count${sel()}${RATE}))`, '{{pod}}')],
      },
    ],
  },
];

function gauge(title: string, description: string, unit: Unit, metric: string, legend: string): PanelSpec {
  const by = legend.includes('phase') ? 'run, phase' : 'run';
  return { title, description, unit, queries: [q(`max by (${by}) (${metric}${sel(RUN)})`, legend)] };
}

function variable(name: string, label: string, query: string) {
  return {
    name,
    label,
    type: 'query',
    datasource: DATASOURCE,
    query,
    refresh: 2,
    includeAll: true,
    multi: true,
    allValue: '.*',
    current: { selected: true, text: ['All'], value: ['$__all'] },
  };
}

/** The Grafana JSON model of one dashboard. */
export function buildDashboard(spec: DashboardSpec): Record<string, unknown> {
  const variables: unknown[] = [
    { name: 'datasource', label: 'Data source', type: 'datasource', query: 'prometheus', refresh: 1 },
    variable('namespace', 'Namespace', 'label_values(process_cpu_seconds_total, namespace)'),
    variable('job', 'Job', 'label_values(process_cpu_seconds_total{namespace=~"$namespace"}, job)'),
    variable(
      'service',
      'Service',
      'label_values(process_cpu_seconds_total{namespace=~"$namespace", job=~"$job"}, service)',
    ),
  ];
  if (spec.perRun)
    variables.push(
      variable('run', 'Run', 'label_values(recon_training_step{namespace=~"$namespace", job=~"$job"}, run)'),
    );
  let y = 0;
  let x = 0;
  const panels = spec.panels.map((panel, index) => {
    const stat = panel.kind === 'stat';
    const w = stat ? 6 : 12;
    const h = stat ? 4 : 8;
    if (x + w > 24) {
      x = 0;
      y += 8;
    }
    const gridPos = { x, y, w, h };
    x += w;
    return {
      id: index + 1,
      type: panel.kind ?? 'timeseries',
      title: panel.title,
      description: panel.description,
      datasource: DATASOURCE,
      gridPos,
      fieldConfig: { defaults: { unit: panel.unit }, overrides: [] },
      targets: panel.queries.map((query, i) => ({
        refId: String.fromCharCode(65 + i),
        datasource: DATASOURCE,
        expr: query.expr,
        legendFormat: query.legend,
      })),
    };
  });
  return {
    uid: spec.uid,
    title: spec.title,
    tags: spec.operators ? ['recon', 'operators'] : ['recon'],
    timezone: 'utc',
    schemaVersion: 39,
    version: 2,
    refresh: '10s',
    time: { from: 'now-1h', to: 'now' },
    templating: { list: variables },
    panels,
  };
}

/** Every dashboard file's content, as committed in grafana/dashboards. */
export function buildDashboardFiles(): Map<string, string> {
  return new Map(DASHBOARDS.map((spec) => [spec.file, `${JSON.stringify(buildDashboard(spec), null, 2)}\n`]));
}
