import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { auditStream, type RecordedEvent } from '@recon/eventlog';
import { parseExperimentConfig } from '@recon/experiment';
import { issueToken } from '@recon/service-kit';
import { acquireLocalBroker, type LocalBroker } from '../../scripts/kafka/local-broker';
import { createTestPlatform, type TestPlatform } from '../support/platform';
import {
  dashboardQueries,
  fillVariables,
  freePort,
  waitFor as until,
  waitForHealthy,
  startPrometheus,
  type RunningPrometheus,
} from '../support/prometheus';
import { RECON_BIN } from '../support/recon-cli';
import { kafkaNamespace, stopChild } from '../support/recon-up';
import {
  gamesWithoutRunId,
  payloadFingerprint,
  REPRODUCIBLE_TYPES,
  requestTestRun,
} from '../support/run-events';
import { TEST_PRODUCER } from '../support/synthetic-run';

const CONFIG = `
name: both-ways
seed: 13
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
const WORKERS = ['data', 'training', 'rollout', 'reward', 'evaluation'];
const REPRODUCIBLE = new Set([
  ...REPRODUCIBLE_TYPES,
  'dataset.resolved',
  'policy.ready',
  'evaluation.completed',
  'run.completed',
]);

describe('distributed deployment: each service its own process, over a real Kafka broker', () => {
  let platform: TestPlatform;
  let broker: LocalBroker;
  const children: ChildProcess[] = [];
  /** The six services' HTTP ports, and a Prometheus scraping them while the distributed run goes. */
  const ports = new Map<string, number>();
  const outputs = new Map<string, string[]>();
  let viewerToken: string;
  let prometheus: RunningPrometheus | undefined;

  beforeAll(async () => {
    platform = await createTestPlatform();
    broker = await acquireLocalBroker();
  }, 120_000);
  afterAll(async () => {
    await prometheus?.stop();
    await Promise.all(children.map((child) => stopChild(child, 'SIGINT')));
    await broker?.release();
    await platform?.close();
  }, 60_000);

  const request = (runId: string) =>
    requestTestRun(platform.eventStore, runId, parseExperimentConfig(CONFIG, 'both-ways.yaml'));
  const ended = (runId: string) => async () => {
    const events = await platform.eventStore.readStream(runId, { types: ['run.completed', 'run.failed'] });
    return events.length > 0 ? events[0] : undefined;
  };
  const fingerprint = (events: RecordedEvent[]) => payloadFingerprint(events, REPRODUCIBLE);

  it('produces the same run events as the embedded deployment', async () => {
    const env = {
      ...process.env,
      DATABASE_URL: platform.databaseUrl,
      RECON_HOME: mkdtempSync(join(tmpdir(), 'recon-dist-')),
    };
    // The embedded deployment: one process, in-process bus.
    const configFile = join(env.RECON_HOME, 'both-ways.yaml');
    writeFileSync(configFile, CONFIG);
    const embedded = spawn(
      process.execPath,
      [RECON_BIN, 'run', configFile, '--run-id', 'embedded', '--no-progress', '--json'],
      { env, stdio: 'ignore' },
    );
    expect(await new Promise((r) => embedded.on('exit', r))).toBe(0);

    // The distributed deployment: six processes, Kafka between them.
    // A namespace of its own: topics and consumer groups shared with no other suite on the broker.
    const kafkaEnv = {
      ...env,
      KAFKA_BROKERS: broker.brokers.join(','),
      RECON_BACKEND: 'wasm',
      RECON_KAFKA_NAMESPACE: kafkaNamespace('both-ways'),
    };
    for (const name of ['api', ...WORKERS]) {
      const port = await freePort();
      ports.set(name, port);
      const child = spawn(
        process.execPath,
        [RECON_BIN, 'service', name, '--port', String(port), '--host', '127.0.0.1'],
        { env: kafkaEnv, stdio: ['ignore', 'ignore', 'pipe'] },
      );
      // A service that dies or never gets ready is reported with the end of what it printed.
      const output: string[] = [];
      child.stderr?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
      outputs.set(name, output);
      children.push(child);
    }
    for (const [name, port] of ports)
      await waitForHealthy(`service ${name}`, port).catch((error: Error) => {
        throw new Error(`${error.message}; its stderr ends:\n${outputs.get(name)?.join('').slice(-2000)}`);
      });
    viewerToken = (
      await issueToken(
        platform,
        { name: 'prometheus', role: 'viewer', expiresInMs: null, actor: 'jest' },
        TEST_PRODUCER,
      )
    ).token;
    prometheus = await startPrometheus(
      [...ports].map(([name, port]) => ({ name: `recon-${name}`, port, token: viewerToken })),
    );
    await request('distributed');
    const end = await until('the distributed run to end', ended('distributed'), 240_000);
    expect(end.type).toBe('run.completed');

    const a = await platform.eventStore.readStream('embedded');
    const b = await platform.eventStore.readStream('distributed');
    expect(fingerprint(b)).toEqual(fingerprint(a));
    // The games too: their match ids name the run, so compare them with the run id taken out.
    const games = (events: RecordedEvent[], runId: string) => gamesWithoutRunId(events, runId).sort();
    expect(games(b, 'distributed')).toHaveLength(40);
    expect(games(b, 'distributed')).toEqual(games(a, 'embedded'));
    expect(new Set(b.filter((e) => e.type === 'rollout.generated').map((e) => e.eventId)).size).toBe(
      2 * 2 * 4,
    );
    expect((await auditStream(platform.pool, 'distributed')).ok).toBe(true);
  }, 420_000);

  it('exports the run metrics from the api service only, and every dashboard panel has data for the run', async () => {
    expect(prometheus).toBeDefined();
    const scrape = async (service: string) => {
      const response = await fetch(`http://127.0.0.1:${ports.get(service)}/metrics`, {
        headers: { authorization: `Bearer ${viewerToken}` },
      });
      expect(response.status).toBe(200);
      return response.text();
    };
    // The api service follows the run events through Kafka with its own consumer group; the run has ended,
    // so its last evaluation arrives there too.
    const api = await until(
      'the api service to export the GRPO evaluation of the run',
      async () => {
        const text = await scrape('api');
        return text.includes(
          'recon_eval_accuracy{run="distributed",suite="held-out",stage="grpo",category="all",service="api"}',
        )
          ? text
          : undefined;
      },
      120_000,
    );
    expect(api).toMatch(
      /^recon_relay_published_events_total\{topic="([\w.-]+\.)?recon\.events",service="api"\} [1-9]/m,
    );
    for (const series of [
      'recon_training_loss{run="distributed",phase="sft",service="api"}',
      'recon_training_loss{run="distributed",phase="grpo",service="api"}',
      'recon_training_kl{run="distributed",service="api"}',
      'recon_rollout_completions_total{run="distributed",service="api"} 16',
      'recon_reward_score_count{service="api",reward_id="recon-hierarchical",component="total"}',
      'recon_game_win_rate{run="distributed",stage="grpo",',
      'recon_log_head_position{service="api"}',
    ])
      expect(api).toContain(series);
    // The relay has put every committed event into Kafka.
    await until(
      'the relay lag to reach 0',
      async () =>
        // The topic is recon.events, prefixed when RECON_KAFKA_NAMESPACE is set.
        /^recon_relay_lag_events\{topic="([\w.-]+\.)?recon\.events",service="api"\} 0$/m.test(
          await scrape('api'),
        )
          ? true
          : undefined,
      60_000,
    );
    // The workers export their process metrics only: no run, pipeline or relay series to duplicate.
    const duplicated =
      /^(recon_(training|rollout|eval|game|log|relay|projection|consumer)_\w*|recon_reward_(score|latency)\w*)[{ ]/m;
    for (const worker of WORKERS) {
      const text = await scrape(worker);
      expect(text).toContain(`process_cpu_seconds_total{service="${worker}"}`);
      // ...and what their own consumer groups handled.
      expect([
        worker,
        new RegExp(`^recon_events_consumed_total\\{[^}]*service="${worker}"[^}]*\\} [1-9]`, 'm').test(text),
      ]).toEqual([worker, true]);
      expect([worker, text.match(duplicated)?.[0]]).toEqual([worker, undefined]);
    }

    // Every panel of every dashboard, with the run selected, answers from Prometheus scraping the six services.
    const running = prometheus as RunningPrometheus;
    await until(
      'Prometheus to scrape the GRPO evaluation',
      async () =>
        ((await running.query('recon_eval_accuracy{run="distributed",stage="grpo"}')).data?.result.length ??
          0) > 0
          ? true
          : undefined,
      60_000,
    );
    // The run has ended: every consumer group has read the topic to its end (lag from Kafka's own group
    // offsets), and the api's projection processor has applied every event.
    for (const expr of ['max(recon_consumer_lag_events)', 'max(recon_projection_lag_events)'])
      await until(
        `${expr} == 0 in Prometheus`,
        async () => ((await running.query(expr)).data?.result[0]?.value[1] === '0' ? true : undefined),
        60_000,
      );
    const empty: string[] = [];
    for (const { dashboard, panel, expr } of dashboardQueries()) {
      const query = fillVariables(expr, { run: 'distributed' });
      const answer = await running.query(query);
      expect([panel, answer.status, answer.error]).toEqual([panel, 'success', undefined]);
      if ((answer.data?.result ?? []).length === 0) empty.push(`${dashboard} / ${panel}: ${query}`);
    }
    expect(empty).toEqual([]);
    const sources = await running.query(
      'count by (service) ({__name__=~"recon_(training|rollout|reward_score|eval|game)_.+", run=~"distributed|"})',
    );
    expect(sources.data?.result.map((r) => r.metric.service)).toEqual(['api']);
  }, 300_000);
});
