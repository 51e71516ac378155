import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { join, resolve } from 'node:path';
import { Registry } from 'prom-client';
import type { EventStore } from '@recon/eventlog';
import { eventBusFor, issueToken } from '@recon/service-kit';
import { createTestPlatform, type TestPlatform } from '../support/platform';
import {
  freePort,
  startPrometheus,
  waitFor,
  waitForHealthy,
  type RunningPrometheus,
} from '../support/prometheus';
import { syntheticRunEvents, TEST_PRODUCER } from '../support/synthetic-run';

const ROOT = resolve(__dirname, '../..');
const BIN = join(ROOT, 'bin/recon');

jest.setTimeout(300_000);

/** The value of a query that must return exactly one series (undefined while it returns none). */
async function single(prometheus: RunningPrometheus, expr: string): Promise<number | undefined> {
  const answer = await prometheus.query(expr);
  if (answer.status !== 'success') throw new Error(`${expr}: ${answer.error}`);
  const result = answer.data?.result ?? [];
  return result.length === 1 ? Number(result[0].value[1]) : undefined;
}

/** Waits until Prometheus answers the query with exactly this value. */
const prometheusReads = (prometheus: RunningPrometheus, expr: string, value: number, timeoutMs = 90_000) =>
  waitFor(
    `${expr} == ${value}`,
    async () => ((await single(prometheus, expr)) === value ? true : undefined),
    timeoutMs,
  );

function spawnRecon(args: string[], env: NodeJS.ProcessEnv): ChildProcess {
  const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, ...env } });
  child.stderr?.on('data', (chunk: Buffer) => process.env.RECON_TEST_LOG && process.stderr.write(chunk));
  return child;
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGINT');
  await new Promise((r) => child.once('exit', r));
}

/** A registry served on 127.0.0.1 (what a service's /metrics does, without its token check). */
async function serve(registry: Registry): Promise<{ port: number; server: Server }> {
  const port = await freePort();
  const server = createServer((_request, response) => {
    void registry
      .metrics()
      .then((text) => response.writeHead(200, { 'Content-Type': registry.contentType }).end(text));
  });
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', () => r()));
  return { port, server };
}

describe('the api service: projections kept current without reads, per-run series bounded', () => {
  let platform: TestPlatform;
  const children: ChildProcess[] = [];
  let prometheus: RunningPrometheus;

  beforeAll(async () => {
    platform = await createTestPlatform();
    const token = (
      await issueToken(
        platform,
        { name: 'prometheus', role: 'viewer', expiresInMs: null, actor: 'test' },
        TEST_PRODUCER,
      )
    ).token;
    // Two api replicas: one projects, the other stands by on the processor lock.
    const ports = [await freePort(), await freePort()];
    for (const port of ports) {
      const api = spawnRecon(['service', 'api', '--port', String(port)], {
        DATABASE_URL: platform.databaseUrl,
        RECON_BLOB_DIR: platform.blobDir,
        KAFKA_BROKERS: '',
        RECON_RUN_SERIES_TTL_SECONDS: '5',
      });
      children.push(api);
      await waitForHealthy('recon service api', port);
    }
    prometheus = await startPrometheus([
      { name: 'api-a', port: ports[0], token },
      { name: 'api-b', port: ports[1], token },
    ]);
    await prometheus.scraped('api-a', 2);
  });

  afterAll(async () => {
    await prometheus?.stop();
    await Promise.all(children.map(stopChild));
    await platform?.close();
  });

  it('projection lag returns to 0 with no read, with one replica projecting; 50 runs leave no run series behind', async () => {
    // One run first: the series a run adds while it is current, and the series count once it is retired.
    await platform.eventStore.append('bounded-0', syntheticRunEvents('bounded-0'), {
      expectedVersion: 'no-stream',
      producer: TEST_PRODUCER,
    });
    await waitFor('the first run series', async () =>
      ((await single(prometheus, 'count(recon_training_loss{job="api-a",run="bounded-0"})')) ?? 0) > 0
        ? true
        : undefined,
    );
    await prometheusReads(prometheus, 'count(recon_training_loss{job="api-a"}) or vector(0)', 0);
    await prometheus.scraped('api-a', 3);
    const afterOne = await single(prometheus, 'scrape_samples_scraped{job="api-a"}');

    for (let i = 1; i <= 50; i += 1)
      await platform.eventStore.append(
        `bounded-${i}`,
        syntheticRunEvents(`bounded-${i}`, { sftSteps: 2, grpoSteps: 1 }),
        {
          expectedVersion: 'no-stream',
          producer: TEST_PRODUCER,
        },
      );
    const head = await platform.eventStore.headPosition();

    // Nobody reads the runs: the processor alone brings every projector to the head.
    // Read from a scrape taken once the head was there (a sample from before the appends would read 0 too).
    await prometheusReads(
      prometheus,
      `max(recon_projection_lag_events{job="api-a"}) + 0 * max(recon_log_head_position{job="api-a"} == ${head})`,
      0,
    );
    const projected = await platform.pool.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM runs WHERE run_id LIKE 'bounded-%'",
    );
    expect(projected.rows[0].n).toBe(51);
    expect(await platform.projections.projectedPosition()).toBe(head);
    // Exactly one session holds the processor lock.
    const holders = await platform.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND granted AND objid = 7224032
         AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
    );
    expect(holders.rows[0].n).toBe(1);

    // Every finished run's series expire: none is left, and the exporter is as large as after one run.
    await prometheusReads(prometheus, 'count({job="api-a",run!=""}) or vector(0)', 0);
    await prometheus.scraped('api-a', 3);
    const afterFifty = await single(prometheus, 'scrape_samples_scraped{job="api-a"}');
    expect(afterOne).toBeDefined();
    // Process metrics may add a few series (GC kinds seen for the first time); 51 runs would add thousands.
    expect(afterFifty! - afterOne!).toBeLessThan(30);
  });
});

describe('recon_pipeline_errors_total reaches Prometheus before the process exits', () => {
  let platform: TestPlatform;
  let prometheus: RunningPrometheus | null = null;
  const servers: Server[] = [];

  beforeAll(async () => {
    platform = await createTestPlatform();
    await platform.eventStore.append('errors-run', syntheticRunEvents('errors-run'), {
      expectedVersion: 'no-stream',
      producer: TEST_PRODUCER,
    });
  });

  afterAll(async () => {
    await prometheus?.stop();
    for (const server of servers) await new Promise((r) => server.close(r));
    await platform?.close();
  });

  it('an injected handler failure and an injected bus error are each scraped, then the process exits', async () => {
    const previous = {
      brokers: process.env.KAFKA_BROKERS,
      grace: process.env.RECON_ERROR_EXIT_GRACE_SECONDS,
    };
    process.env.KAFKA_BROKERS = '';
    process.env.RECON_ERROR_EXIT_GRACE_SECONDS = '120';
    const exits: Array<{ bus: string; at: number }> = [];
    try {
      // The handler service: its handler fails on the run's first SFT step.
      const handlerBus = eventBusFor('handler-probe', platform, () =>
        exits.push({ bus: 'handler', at: Date.now() }),
      );
      // The bus service: its reads of the log fail (the database answers an error).
      const failingStore = new Proxy(platform.eventStore, {
        get(target, property, receiver) {
          if (property === 'readAll')
            return async () => Promise.reject(new Error('injected: the log cannot be read'));
          const value = Reflect.get(target, property, receiver) as unknown;
          return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
        },
      }) as EventStore;
      const busBus = eventBusFor('bus-probe', { ...platform, eventStore: failingStore } as TestPlatform, () =>
        exits.push({ bus: 'bus', at: Date.now() }),
      );
      const registries = [new Registry(), new Registry()];
      handlerBus.registerMetrics(registries[0]);
      busBus.registerMetrics(registries[1]);
      const endpoints = await Promise.all(registries.map(serve));
      servers.push(...endpoints.map((e) => e.server));
      prometheus = await startPrometheus([
        { name: 'handler-probe', port: endpoints[0].port },
        { name: 'bus-probe', port: endpoints[1].port },
      ]);
      await prometheus.scraped('handler-probe', 2);
      await prometheus.scraped('bus-probe', 2);
      expect(
        await single(prometheus, 'recon_pipeline_errors_total{job="handler-probe",where="handler"}'),
      ).toBe(0);

      await handlerBus.subscribe({ group: 'failing-handler' }, async (event) => {
        if (event.type === 'sft.step.completed') throw new Error('injected handler failure');
      });
      await busBus.subscribe({ group: 'failing-bus' }, async () => undefined);

      await prometheusReads(
        prometheus,
        'recon_pipeline_errors_total{job="handler-probe",where="handler"}',
        1,
      );
      await prometheusReads(prometheus, 'recon_pipeline_errors_total{job="bus-probe",where="bus"}', 1);
      // Each process exits once a scrape has carried its error, long before its 120 s grace runs out.
      await waitFor('both exits', async () => (exits.length === 2 ? true : undefined), 30_000);
      expect(exits.map((e) => e.bus).sort()).toEqual(['bus', 'handler']);
      await handlerBus.close();
      await busBus.close();
    } finally {
      process.env.KAFKA_BROKERS = previous.brokers;
      process.env.RECON_ERROR_EXIT_GRACE_SECONDS = previous.grace;
      if (previous.brokers === undefined) delete process.env.KAFKA_BROKERS;
      if (previous.grace === undefined) delete process.env.RECON_ERROR_EXIT_GRACE_SECONDS;
    }
  });
});

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

describe('recon run --metrics-port: the final stage is scraped', () => {
  let platform: TestPlatform;
  let prometheus: RunningPrometheus | null = null;

  beforeAll(async () => {
    platform = await createTestPlatform();
  });
  afterAll(async () => {
    await prometheus?.stop();
    await platform?.close();
  });

  it("keeps /metrics up after the report until a scrape has read the GRPO stage's accuracy", async () => {
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(join(tmpdir(), 'recon-linger-'));
    const config = join(dir, 'tiny.yaml');
    writeFileSync(config, TINY_RUN);
    const port = await freePort();
    prometheus = await startPrometheus([{ name: 'recon-run', port }]);
    const run = spawnRecon(
      [
        'run',
        config,
        '--run-id',
        'linger-run',
        '--metrics-port',
        String(port),
        '--no-progress',
        '--report',
        join(dir, 'r.md'),
      ],
      {
        DATABASE_URL: platform.databaseUrl,
        RECON_BLOB_DIR: platform.blobDir,
        RECON_HOME: dir,
        KAFKA_BROKERS: '',
      },
    );
    const code = await new Promise<number | null>((r) => run.once('exit', r));
    expect(code).toBe(0);
    // The process has exited: what Prometheus holds is what it scraped before the exporter closed.
    const accuracy = await single(
      prometheus,
      'count(last_over_time(recon_eval_accuracy{run="linger-run",stage="grpo",category="all"}[5m]))',
    );
    expect(accuracy).toBeGreaterThan(0);
  });
});
