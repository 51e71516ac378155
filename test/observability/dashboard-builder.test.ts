import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { buildDashboardFiles } from '../../scripts/grafana/dashboards';

const DIR = resolve(__dirname, '../../grafana/dashboards');

interface Panel {
  title: string;
  datasource: { uid: string };
  fieldConfig?: { defaults?: { unit?: string } };
  targets: Array<{ expr: string; datasource: { uid: string } }>;
}

const COUNTERS = [
  'recon_events_consumed_total',
  'recon_pipeline_errors_total',
  'recon_reward_failures_total',
  'recon_rollout_completions_total',
  'recon_rollout_tokens_total',
  'process_cpu_seconds_total',
  'cnpg_pg_stat_archiver_failed_count',
];
const HISTOGRAMS = [
  'recon_rollout_latency_seconds',
  'recon_reward_score',
  'recon_reward_latency_seconds',
  'recon_training_step_seconds',
];

describe('grafana/dashboards, built by scripts/grafana/dashboards.ts', () => {
  const built = buildDashboardFiles();

  it('are exactly what the builder writes (regenerate: node dist/scripts/grafana/build-dashboards.js)', () => {
    const files = readdirSync(DIR)
      .filter((f) => f.endsWith('.json'))
      .sort();
    expect(files).toEqual([...built.keys()].sort());
    for (const [file, text] of built)
      expect([file, readFileSync(join(DIR, file), 'utf8')]).toEqual([file, text]);
  });

  it.each([...built.keys()])(
    '%s: datasource variable, namespace and job selectors, units, rates of counters and histograms',
    (file) => {
      const dashboard = JSON.parse(built.get(file)!) as {
        templating: { list: Array<{ name: string; type: string }> };
        panels: Panel[];
      };
      const variables = dashboard.templating.list.map((v) => v.name);
      expect(variables).toEqual(expect.arrayContaining(['datasource', 'namespace', 'job']));
      expect(dashboard.templating.list.find((v) => v.name === 'datasource')?.type).toBe('datasource');
      for (const panel of dashboard.panels) {
        expect([panel.title, panel.datasource.uid]).toEqual([panel.title, '${datasource}']);
        expect([panel.title, panel.fieldConfig?.defaults?.unit]).toEqual([panel.title, expect.any(String)]);
        for (const { expr, datasource } of panel.targets) {
          expect(datasource.uid).toBe('${datasource}');
          // Every metric selector names the deployment and the job.
          const selectors = expr.match(/[a-z_:]+\{[^}]*\}/g) ?? [];
          expect(selectors.length).toBeGreaterThan(0);
          for (const selector of selectors)
            expect([expr, selector]).toEqual([
              expr,
              expect.stringContaining('namespace=~"$namespace", job=~"$job"'),
            ]);
          for (const counter of COUNTERS)
            for (const use of expr.matchAll(new RegExp(`(\\w+)\\(${counter}\\{`, 'g')))
              expect([expr, use[1]]).toEqual([expr, expect.stringMatching(/^(rate|increase)$/)]);
          for (const histogram of HISTOGRAMS) {
            if (!expr.includes(histogram)) continue;
            // Buckets only inside histogram_quantile of a rate; sums and counts only as rates.
            for (const use of expr.matchAll(
              new RegExp(`(\\w+)\\(${histogram}_(bucket|sum|count)\\{[^}]*\\}\\[\\$__rate_interval\\]`, 'g'),
            ))
              expect(use[1]).toBe('rate');
            expect(expr).not.toMatch(new RegExp(`[^(]${histogram}_(bucket|sum|count)\\{`));
          }
        }
      }
    },
  );

  it('has panels for reward failures, Kafka (from Strimzi) and PostgreSQL (from CloudNativePG)', () => {
    const exprs = [...built.values()].flatMap((text) =>
      (JSON.parse(text) as { panels: Panel[] }).panels.flatMap((p) => p.targets.map((t) => t.expr)),
    );
    expect(exprs.some((e) => e.includes('increase(recon_reward_failures_total'))).toBe(true);
    expect(exprs.some((e) => e.includes('kafka_consumergroup_lag'))).toBe(true);
    expect(exprs.some((e) => e.includes('cnpg_collector_up'))).toBe(true);
  });
});
