import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const DASHBOARDS = resolve(__dirname, '../../grafana/dashboards');

export async function freePort(): Promise<number> {
  return new Promise((done) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => done(port));
    });
  });
}

/** Polls until the probe returns a value (a failing probe counts as "not yet"). */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 60_000,
  pollMs = 250,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

/** Polls until a service on 127.0.0.1:port answers /health/ready with 2xx. */
export async function waitForHealthy(what: string, port: number, timeoutMs = 60_000): Promise<void> {
  await waitFor(
    `${what} on ${port}`,
    async () => ((await fetch(`http://127.0.0.1:${port}/health/ready`)).ok ? true : undefined),
    timeoutMs,
  );
}

export interface ScrapeJob {
  name: string;
  port: number;
  /** A viewer token, for the services' /metrics (the run process's exporter needs none). */
  token?: string;
}

export interface QueryAnswer {
  status: string;
  error?: string;
  data?: { result: Array<{ metric: Record<string, string>; value: [number, string] }> };
}

export interface RunningPrometheus {
  url: string;
  query(expr: string): Promise<QueryAnswer>;
  /** Waits until Prometheus has scraped the job at least `scrapes` times within the last minute. */
  scraped(job: string, scrapes: number): Promise<void>;
  stop(): Promise<void>;
}

/** Debian's Prometheus scraping the jobs every second, in a temporary directory. */
export async function startPrometheus(jobs: ScrapeJob[]): Promise<RunningPrometheus> {
  const work = mkdtempSync(join(tmpdir(), 'recon-prometheus-'));
  const config = ['global:', '  scrape_interval: 1s', 'scrape_configs:'];
  for (const job of jobs) {
    config.push(`  - job_name: ${job.name}`);
    if (job.token) {
      const file = join(work, `${job.name}.token`);
      writeFileSync(file, job.token, { mode: 0o600 });
      config.push('    authorization:', `      credentials_file: ${file}`);
    }
    config.push('    static_configs:', `      - targets: ['127.0.0.1:${job.port}']`);
  }
  writeFileSync(join(work, 'prometheus.yml'), `${config.join('\n')}\n`);
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child: ChildProcess = spawn(
    'prometheus',
    [
      `--config.file=${join(work, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(work, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
    ],
    { stdio: 'ignore' },
  );
  const query = async (expr: string): Promise<QueryAnswer> =>
    (await (await fetch(`${url}/api/v1/query?query=${encodeURIComponent(expr)}`)).json()) as QueryAnswer;
  await waitFor('prometheus', async () => ((await fetch(`${url}/-/ready`)).ok ? true : undefined));
  return {
    url,
    query,
    scraped: async (job, scrapes) => {
      await waitFor(`${scrapes} scrapes of ${job}`, async () => {
        const answer = await query(`count_over_time(up{job="${job}"}[1m])`);
        return Number(answer.data?.result[0]?.value[1] ?? 0) >= scrapes ? true : undefined;
      });
    },
    stop: async () => {
      if (child.exitCode === null) {
        child.kill('SIGINT');
        await new Promise((r) => child.once('exit', r));
      }
      rmSync(work, { recursive: true, force: true });
    },
  };
}

export interface DashboardQuery {
  dashboard: string;
  panel: string;
  expr: string;
}

/**
 * Every panel query of every dashboard in grafana/dashboards, except those tagged `operators` (they read
 * Strimzi's and CloudNativePG's exporters, which only a cluster runs).
 */
export function dashboardQueries(): DashboardQuery[] {
  return readdirSync(DASHBOARDS)
    .filter((f) => f.endsWith('.json'))
    .flatMap((file) => {
      const dashboard = JSON.parse(readFileSync(join(DASHBOARDS, file), 'utf8')) as {
        tags?: string[];
        panels: Array<{ title: string; targets: Array<{ expr: string }> }>;
      };
      if (dashboard.tags?.includes('operators')) return [];
      return dashboard.panels.flatMap((panel) =>
        panel.targets.map((target) => ({ dashboard: file, panel: panel.title, expr: target.expr })),
      );
    });
}

/** Fills the dashboard variables the way Grafana would for a 15 s scrape interval ("All" by default). */
export function fillVariables(expr: string, values: { run?: string; service?: string } = {}): string {
  return expr
    .replace(/\$__rate_interval/g, '30s')
    // "All" of namespace and job is '.*': it also matches the test's series, which have no namespace label.
    .replace(/\$namespace/g, '.*')
    .replace(/\$job/g, '.*')
    .replace(/\$service/g, values.service ?? '.+')
    .replace(/\$run/g, values.run ?? '.+');
}
