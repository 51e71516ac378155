import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseExperimentConfig } from '@recon/experiment';
import { InProcessEventBus } from '@recon/transport';
import { serveRunMetrics } from '../../apps/cli/src/run/metrics-server';
import { issueToken } from '@recon/service-kit';
import { runToEnd, startEmbeddedDeployment, type EmbeddedDeployment } from '../support/embedded-deployment';
import type { TestPlatform } from '../support/platform';
import {
  dashboardQueries,
  fillVariables,
  freePort,
  startPrometheus,
  waitFor,
  waitForHealthy,
  type RunningPrometheus,
} from '../support/prometheus';
import { syntheticRunEvents, TEST_PRODUCER } from '../support/synthetic-run';

const ROOT = resolve(__dirname, '../..');
const BIN = join(ROOT, 'bin/recon');

const TINY_RUN = `
name: tiny
seed: 5
datasets:
  curriculum: { trainItems: 100, testItems: 10 }
policy: { kind: builtin, dModel: 32, nLayers: 1, nHeads: 2, contextLength: 256, backend: wasm }
tokenizer: { vocabSize: 380 }
sft: { steps: 4, batchSize: 8, learningRate: 0.003 }
grpo: { steps: 2, promptsPerStep: 2, numGenerations: 4, learningRate: 0.0002, beta: 0.04, maxCompletionTokens: 16, maxGradNorm: 1.0 }
evaluation:
  stages: [sft, grpo]
  maxNewTokens: 16
  heldOut: { items: 10 }
  completeInformation: { trials: 1 }
  gtbench: { matches: 1, opponents: [random] }
`;

/**
 * Panels with no data in the embedded deployment (there is no log-to-Kafka relay in it);
 * test/distributed/services-over-kafka.test.ts requires data in them from the distributed deployment.
 */
const DISTRIBUTED_ONLY = new Set(['Outbox relay lag by topic (events)']);

describe('Grafana dashboards against a real Prometheus scraping the services', () => {
  let deployment: EmbeddedDeployment;
  let platform: TestPlatform;
  const children: ChildProcess[] = [];
  let prometheus: RunningPrometheus;
  let runMetrics: { close(): Promise<void> };

  beforeAll(async () => {
    // A real (tiny) run on the embedded services, with the run process's own /metrics. It goes first: the
    // synthetic runs below are records, not runs the services could act on.
    deployment = await startEmbeddedDeployment({ instrumented: true });
    platform = deployment.platform;
    const runPort = await freePort();
    runMetrics = await serveRunMetrics(platform, deployment.bus, runPort);
    const outcome = await runToEnd(deployment, 'dash-tiny', parseExperimentConfig(TINY_RUN, 'tiny.yaml'));
    expect(outcome.status).toBe('completed');

    // Something to measure: a recorded run, its projections, and a consumer group that has caught up.
    await platform.eventStore.append('dash-run', syntheticRunEvents('dash-run'), {
      expectedVersion: 'no-stream',
      producer: TEST_PRODUCER,
    });
    await platform.projections.catchUp();
    const bus = new InProcessEventBus(platform.eventStore, platform.pool, { pollMs: 20 });
    let seen = 0;
    await bus.subscribe({ group: 'dashboard-probe' }, async () => void (seen += 1));
    await waitFor('the consumer group', async () => (seen >= 10 ? true : undefined));
    await bus.close();

    const apiPort = await freePort();
    const api = spawn(process.execPath, [BIN, 'api', '--port', String(apiPort)], {
      env: { ...process.env, DATABASE_URL: platform.databaseUrl },
    });
    children.push(api);
    await waitForHealthy('recon api', apiPort);

    const token = (
      await issueToken(
        platform,
        { name: 'prometheus', role: 'viewer', expiresInMs: null, actor: 'test' },
        TEST_PRODUCER,
      )
    ).token;
    prometheus = await startPrometheus([
      { name: 'recon-api', port: apiPort, token },
      { name: 'recon-run', port: runPort },
    ]);
    // Enough samples for the rate() and deriv() windows.
    await prometheus.scraped('recon-api', 6);
    await prometheus.scraped('recon-run', 6);
    // A second run so the log head moves within the windows.
    await platform.eventStore.append('dash-run-2', syntheticRunEvents('dash-run-2'), {
      expectedVersion: 'no-stream',
      producer: TEST_PRODUCER,
    });
    await new Promise((r) => setTimeout(r, 3000));
  }, 300_000);

  afterAll(async () => {
    await runMetrics?.close();
    await prometheus?.stop();
    for (const child of children) child.kill('SIGINT');
    await new Promise((r) => setTimeout(r, 500));
    await deployment?.close();
  });

  const dashboards = readdirSync(join(ROOT, 'grafana/dashboards')).filter((f) => f.endsWith('.json'));

  it('has stable uids and provisioning for every dashboard', () => {
    expect(dashboards.length).toBeGreaterThan(0);
    const uids = dashboards.map(
      (f) => JSON.parse(readFileSync(join(ROOT, 'grafana/dashboards', f), 'utf8')).uid as string,
    );
    expect(new Set(uids).size).toBe(uids.length);
    uids.forEach((uid) => expect(uid).toMatch(/^recon-[a-z-]+$/));
  });

  it.each(dashboards)('every panel of %s returns data from Prometheus', async (file) => {
    const empty: string[] = [];
    for (const { panel, expr } of dashboardQueries().filter((q) => q.dashboard === file)) {
      if (DISTRIBUTED_ONLY.has(panel)) continue;
      const query = fillVariables(expr);
      const body = await prometheus.query(query);
      expect([panel, body.status, body.error]).toEqual([panel, 'success', undefined]);
      if ((body.data?.result ?? []).length === 0) empty.push(`${panel}: ${query}`);
    }
    expect(empty).toEqual([]);
  });
});
