import type { NewEvent } from '@recon/eventlog';
import { pendingMigrations, ProjectionRunner, RunsProjector } from '@recon/persistence';
import { createTestPlatform, type TestPlatform } from '../support/platform';
import { syntheticRunEvents, TEST_PRODUCER } from '../support/synthetic-run';

/** An external evaluation as `recon eval` records it: the request, a call, the result, the end. */
function externalEvaluationEvents(baseUrl: string, outcome: 'completed' | 'failed'): NewEvent[] {
  const call = { requestId: 'recon-eval/row-0', suite: 'recon-eval' as const, attempt: 1 };
  return [
    {
      type: 'external.evaluation.requested',
      payload: {
        policy: { kind: 'openai', baseUrl, model: 'qwen-7b' },
        suites: ['recon-eval'],
        seed: 7,
        settings: { maxTokens: 8 },
        datasets: [],
        requestedBy: 'tester',
        codeVersion: 'abc123',
      },
    },
    {
      type: 'external.request.sent',
      payload: {
        ...call,
        endpoint: `${baseUrl}/chat/completions`,
        model: 'qwen-7b',
        requestBlobHash: 'a'.repeat(64),
      },
    },
    {
      type: 'external.response.received',
      payload: { ...call, outcome: outcome === 'completed' ? 'ok' : 'network-error', latencyMs: 3 },
    },
    outcome === 'completed'
      ? { type: 'run.completed', payload: { summary: { 'recon-eval.accuracy': 0.5 } } }
      : { type: 'run.failed', payload: { phase: 'external-evaluation:recon-eval', error: 'ECONNREFUSED' } },
  ];
}

describe('runs read model: training runs and external evaluations', () => {
  let platform: TestPlatform;
  beforeAll(async () => {
    platform = await createTestPlatform();
    const append = (streamId: string, events: NewEvent[]) =>
      platform.eventStore.append(streamId, events, { expectedVersion: 'no-stream', producer: TEST_PRODUCER });
    await append('train-a', syntheticRunEvents('train-a', { sftSteps: 2, grpoSteps: 1 }));
    await append('eval-ok', externalEvaluationEvents('http://127.0.0.1:8000/v1', 'completed'));
    await append(
      'eval-down',
      externalEvaluationEvents('https://bob:hunter2@models.example/v1?api_key=sk-9', 'failed'),
    );
    // A run requested with an external policy before `recon run` evaluated such configs itself.
    await append('train-openai', [
      {
        type: 'run.requested',
        payload: {
          name: 'external-config',
          config: {
            policy: { kind: 'openai', baseUrl: 'https://models.example/v1?token=t0k', model: 'gpt-x' },
          },
          configHash: 'c'.repeat(64),
          seed: 1,
          requestedBy: 'tester',
          codeVersion: 'abc123',
        },
      },
    ]);
    await platform.projections.catchUp();
  });
  afterAll(() => platform.close());

  const rows = async () =>
    (
      await platform.pool.query(
        `SELECT run_id, kind, name, status, model, base_url, event_count, failure, config_hash, seed::int AS seed
           FROM runs ORDER BY run_id`,
      )
    ).rows;

  it('lists each stream opened by run.requested or external.evaluation.requested, with kind, model and redacted endpoint', async () => {
    const requested = (
      await platform.eventStore.readStream('eval-ok', { types: ['external.evaluation.requested'] })
    )[0];
    expect(await rows()).toEqual([
      {
        run_id: 'eval-down',
        kind: 'external-eval',
        name: 'qwen-7b',
        status: 'failed',
        model: 'qwen-7b',
        base_url: 'https://bob:***@models.example/v1?api_key=***',
        event_count: 4,
        failure: 'external-evaluation:recon-eval: ECONNREFUSED',
        config_hash: expect.stringMatching(/^[0-9a-f]{64}$/),
        seed: 7,
      },
      {
        run_id: 'eval-ok',
        kind: 'external-eval',
        name: 'qwen-7b',
        status: 'completed',
        model: 'qwen-7b',
        base_url: 'http://127.0.0.1:8000/v1',
        event_count: 4,
        failure: null,
        config_hash: requested.payloadHash,
        seed: 7,
      },
      {
        run_id: 'train-a',
        kind: 'training',
        name: 'synthetic train-a',
        status: 'completed',
        model: 'builtin',
        base_url: null,
        event_count: syntheticRunEvents('train-a', { sftSteps: 2, grpoSteps: 1 }).length,
        failure: null,
        config_hash: expect.stringMatching(/^[0-9a-f]{64}$/),
        seed: 42,
      },
      {
        run_id: 'train-openai',
        kind: 'training',
        name: 'external-config',
        status: 'requested',
        model: 'gpt-x',
        base_url: 'https://models.example/v1?token=***',
        event_count: 1,
        failure: null,
        config_hash: 'c'.repeat(64),
        seed: 1,
      },
    ]);
    expect(JSON.stringify(await rows())).not.toMatch(/hunter2|sk-9|t0k/);
  });

  it('rebuilds the rows of one evaluation and of every run to identical digests', async () => {
    const one = await platform.projections.rebuild('eval-down');
    expect(one.identical).toBe(true);
    expect(one.after.tables.find((t) => t.table === 'runs')?.rows).toBe(1);
    const all = await platform.projections.rebuild();
    expect(all.identical).toBe(true);
    expect(all.after.tables.find((t) => t.table === 'runs')?.rows).toBe(4);
  });

  it("records when each run's last event occurred, moving it as the run records more", async () => {
    const lastEventAt = async () =>
      new Map(
        (
          await platform.pool.query<{ run_id: string; last_event_at: string; requested_at: string }>(
            'SELECT run_id, last_event_at, requested_at FROM runs',
          )
        ).rows.map((r) => [r.run_id, r]),
      );
    const lastOf = async (runId: string) => (await platform.eventStore.readStream(runId)).at(-1)!.occurredAt;
    const before = await lastEventAt();
    for (const runId of ['eval-down', 'eval-ok', 'train-a', 'train-openai'])
      expect(before.get(runId)?.last_event_at).toBe(await lastOf(runId));
    expect(before.get('train-openai')?.last_event_at).toBe(before.get('train-openai')?.requested_at);
    // A later append, projected on its own (a second range of the log), moves it to that event.
    const [appended] = await platform.eventStore.append(
      'train-openai',
      [{ type: 'run.failed', payload: { phase: 'external-evaluation', error: 'gone' } }],
      { expectedVersion: 1, producer: TEST_PRODUCER },
    );
    await platform.projections.catchUp();
    expect((await lastEventAt()).get('train-openai')?.last_event_at).toBe(appended.occurredAt);
    expect(appended.occurredAt >= before.get('train-openai')!.last_event_at).toBe(true);
  });

  it('rebuilds the same last event times in batches of 3 positions, each run split across ranges', async () => {
    const before = await platform.projections.digest();
    const runner = new ProjectionRunner(platform.dataSource, platform.eventStore, [new RunsProjector()], 3);
    const rebuilt = await runner.rebuild();
    expect(rebuilt.identical).toBe(true);
    expect(await platform.projections.digest()).toEqual(before);
  });

  it('migrating a database that predates last_event_at fills it as a rebuild would', async () => {
    const before = await platform.projections.digest();
    while (!(await pendingMigrations(platform.dataSource)).includes('RunLastEventAt1732500000014'))
      await platform.dataSource.undoLastMigration({ transaction: 'each' });
    const columns = await platform.pool.query(
      `SELECT 1 FROM information_schema.columns WHERE table_name = 'runs' AND column_name = 'last_event_at'`,
    );
    expect(columns.rows).toEqual([]);
    await platform.dataSource.runMigrations({ transaction: 'each' });
    expect(await platform.projections.digest()).toEqual(before);
    expect((await platform.projections.rebuild()).identical).toBe(true);
  });

  it('migrating a database that predates run kinds re-projects runs from the log, as a rebuild would', async () => {
    const before = await platform.projections.digest();
    const listed = await rows();
    // Back to before RunKinds: the migrations after it are undone first.
    while (!(await pendingMigrations(platform.dataSource)).includes('RunKinds1732500000012'))
      await platform.dataSource.undoLastMigration({ transaction: 'each' });
    const old = await platform.pool.query<{ run_id: string }>('SELECT run_id FROM runs ORDER BY run_id');
    expect(old.rows.map((r) => r.run_id)).toEqual(['train-a', 'train-openai']);
    await platform.dataSource.runMigrations({ transaction: 'each' });
    expect((await platform.pool.query('SELECT count(*)::int AS n FROM runs')).rows[0].n).toBe(0);
    await platform.projections.catchUp();
    expect(await rows()).toEqual(listed);
    expect(await platform.projections.digest()).toEqual(before);
  });
});
