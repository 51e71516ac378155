import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import type { PayloadOf } from '@recon/contracts';
import type { FileBlobStore, RecordedEvent } from '@recon/eventlog';
import { auditStream, databaseIdentity, loadVerifyKey, readLogCheckpoints } from '@recon/eventlog';
import { scratchServerUrl } from '@recon/persistence';
import { createTestPlatform, type TestPlatform } from '../support/platform';
import { RECON_BIN, runRecon } from '../support/recon-cli';
import { recordTinyCheckpoint } from '../support/tiny-checkpoint';
import { main } from '../../apps/cli/src/main';
import { buildAuditReport } from '@recon/audit';

const DATA = resolve(__dirname, '../../../shared/recon-data');

/**
 * The external-model path end to end: `recon serve` (a real process) serves a tiny recorded checkpoint as an
 * OpenAI-compatible server, and `recon eval --policy openai:…` evaluates it on the three suites.
 */
describe('recon eval against recon serve over HTTP', () => {
  let platform: TestPlatform;
  let env: Record<string, string>;
  let server: ChildProcess;
  let baseUrl: string;
  let checkpointHash: string;

  const recon = (args: string[]) => runRecon(args, env, 200_000);
  const chat = async (body: unknown) => {
    const response = await fetch(`${baseUrl}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- response shapes are asserted below
    return { status: response.status, body: (await response.json()) as any };
  };
  const stream = (id: string, type?: string): Promise<RecordedEvent[]> =>
    platform.eventStore.readStream(id, type ? { types: [type] } : {});

  const home = mkdtempSync(join(tmpdir(), 'recon-eval-home-'));

  beforeAll(async () => {
    if (!existsSync(resolve(__dirname, '../../dist/apps/cli/src/main.js')))
      throw new Error('the CLI is not built: run `npm run build` (npm test does)');
    platform = await createTestPlatform();
    ({ checkpointHash } = await recordTinyCheckpoint(platform, 'tiny-run'));
    const url = new URL(scratchServerUrl());
    url.pathname = `/${platform.databaseName}`;
    env = {
      DATABASE_URL: url.toString(),
      RECON_BLOB_DIR: (platform.blobStore as FileBlobStore).root,
      RECON_BACKEND: 'cpu',
      // Where the CLI signs its log checkpoints (and keeps their key).
      RECON_HOME: home,
    };
    server = spawn(
      process.execPath,
      [RECON_BIN, 'serve', 'tiny-run:sft', '--port', '0', '--model-name', 'tiny'],
      {
        env: { ...process.env, ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    baseUrl = await new Promise<string>((done, fail) => {
      let out = '';
      server.stdout!.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        const match = /listening on (\S+)/.exec(out);
        if (match) done(match[1]);
      });
      server.stderr!.on('data', (chunk: Buffer) => (out += chunk.toString()));
      server.once('exit', (code) => fail(new Error(`recon serve exited ${code}: ${out}`)));
    });
  }, 120_000);
  afterAll(async () => {
    if (server && server.exitCode === null) {
      const exited = new Promise((done) => server.once('exit', done));
      server.kill('SIGTERM');
      await exited;
    }
    await platform?.close();
    rmSync(home, { recursive: true, force: true });
  });

  it('serves the checkpoint: /v1/models, chat completions with usage, seed, max_tokens and stop honoured', async () => {
    const models = (await (await fetch(`${baseUrl}/models`)).json()) as { data: Array<{ id: string }> };
    expect(models.data.map((m) => m.id)).toEqual(['tiny']);
    const request = {
      model: 'tiny',
      messages: [{ role: 'user', content: 'Alice and Bob choose A or B.' }],
      temperature: 1,
      top_p: 0.9,
      max_tokens: 6,
      seed: 3,
    };
    const first = await chat(request);
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({
      object: 'chat.completion',
      model: 'tiny',
      system_fingerprint: checkpointHash.slice(0, 16),
    });
    expect(first.body.choices[0].message.role).toBe('assistant');
    expect(first.body.usage.completion_tokens).toBeLessThanOrEqual(6);
    expect(first.body.usage.prompt_tokens).toBeGreaterThan(5);
    expect(first.body.usage.total_tokens).toBe(
      first.body.usage.prompt_tokens + first.body.usage.completion_tokens,
    );
    expect((await chat(request)).body.choices).toEqual(first.body.choices); // same seed, same completion
    const text: string = first.body.choices[0].message.content;
    if (text.length > 1) {
      const stopped = await chat({ ...request, stop: [text.slice(1, 2)] });
      expect(stopped.body.choices[0].message.content).toBe(text.slice(0, text.indexOf(text.slice(1, 2))));
      expect(stopped.body.choices[0].finish_reason).toBe('stop');
    }
    const bad = await chat({ model: 'tiny', messages: [{ role: 'tool', content: 'x' }] });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatchObject({ type: 'invalid_request_error', param: 'messages.0.role' });
  });

  it('evaluates the served model on recon-eval, complete-info and gtbench with every request recorded', async () => {
    const result = await recon([
      'eval',
      '--policy',
      `openai:${baseUrl}`,
      '--model',
      'x',
      '--suite',
      'recon-eval,complete-info,gtbench',
      '--data',
      DATA,
      '--limit',
      '3',
      '--trials',
      '1',
      '--matches',
      '1',
      '--opponents',
      'random',
      '--max-tokens',
      '8',
      '--reasks',
      '1',
      '--eval-id',
      'ext-eval',
      '--json',
    ]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const summary = JSON.parse(result.stdout) as {
      evalId: string;
      events: number;
      results: Record<string, number>;
    };
    expect(summary.evalId).toBe('ext-eval');
    // `recon eval` signs a log checkpoint at its end, like run and demo: the evaluation's head is in it.
    const signed = readLogCheckpoints(
      join(home, 'log-checkpoints.jsonl'),
      await databaseIdentity(platform.pool),
      loadVerifyKey(home, { env: {} }),
    );
    expect(signed.streams.get('ext-eval')?.at(-1)?.version).toBe(summary.events);
    expect(summary.results['recon-eval.items']).toBe(3);
    expect(summary.results['complete-info.overall.trials']).toBe(10);
    expect(summary.results['gtbench.overall.random.matches']).toBe(10);

    const events = await stream('ext-eval');
    expect(events[0].type).toBe('external.evaluation.requested');
    const requested = events[0].payload as PayloadOf<'external.evaluation.requested'>;
    expect(requested).toMatchObject({
      policy: { kind: 'openai', baseUrl, model: 'x' },
      suites: ['recon-eval', 'complete-info', 'gtbench'],
    });
    expect(requested.datasets).toEqual([expect.objectContaining({ role: 'eval', name: 'eval_dataset' })]);

    // Every request has its response, every body is a blob, and the model's usage is recorded.
    const sent = events
      .filter((e) => e.type === 'external.request.sent')
      .map((e) => e.payload as PayloadOf<'external.request.sent'>);
    const received = events
      .filter((e) => e.type === 'external.response.received')
      .map((e) => e.payload as PayloadOf<'external.response.received'>);
    expect(sent.length).toBeGreaterThanOrEqual(3 + 10 + 10);
    expect(received.map((r) => `${r.requestId}@${r.attempt}`).sort()).toEqual(
      sent.map((s) => `${s.requestId}@${s.attempt}`).sort(),
    );
    expect(
      received.every((r) => r.outcome === 'ok' && r.httpStatus === 200 && r.usage!.completionTokens <= 8),
    ).toBe(true);
    for (const r of [...sent.slice(0, 3), ...received.slice(0, 3)]) {
      const hash = 'requestBlobHash' in r ? r.requestBlobHash : r.responseBlobHash!;
      expect(await platform.blobStore.has(hash)).toBe(true);
    }
    const firstRequest = JSON.parse((await platform.blobStore.get(sent[0].requestBlobHash)).toString()) as {
      model: string;
      max_tokens: number;
    };
    expect(firstRequest).toMatchObject({ model: 'x', max_tokens: 8 });

    // The results are the evaluation service's events, at stage `external`.
    const items = events
      .filter((e) => e.type === 'evaluation.item.scored')
      .map((e) => e.payload as PayloadOf<'evaluation.item.scored'>);
    expect(items).toHaveLength(3);
    expect(items.every((i) => i.suite === 'recon-eval' && i.stage === 'external')).toBe(true);
    // `--limit 3` draws across categories (the file's first 3 rows are all one category), seeded by --seed.
    expect(new Set(items.map((i) => i.category)).size).toBe(3);
    const finished = events.filter((e) => e.type === 'game.finished');
    expect(finished).toHaveLength(20);
    expect(events.filter((e) => e.type === 'game.move').length).toBeGreaterThan(0);
    const completed = (await stream('ext-eval', 'evaluation.completed'))[0]
      .payload as PayloadOf<'evaluation.completed'>;
    expect(completed).toMatchObject({ stage: 'external', checkpointHash: `openai:x@${baseUrl}` });
    expect((completed as { samples?: unknown }).samples).toEqual([
      expect.objectContaining({ suite: 'recon-eval', method: 'stratified', of: 300, items: 3 }),
    ]);
    expect(completed.results).toEqual(summary.results);
    expect(events.at(-1)!.type).toBe('run.completed');

    const [audit, report, listed] = await Promise.all([
      recon(['audit', 'ext-eval']),
      recon(['report', 'ext-eval']),
      recon(['events', 'ext-eval', '--type', 'external.response.received', '--json']),
    ]);
    expect(audit.code).toBe(0);
    expect(audit.stdout).toMatch(/hash chain intact/);
    expect(report.code).toBe(0);
    expect(report.stdout).toMatch(/external model: x at/);
    expect(report.stdout).toMatch(/Table 3 — recon-eval accuracy/);
    expect(report.stdout).toMatch(/Table 4/);
    expect(report.stdout).toMatch(/Table 5/);
    expect(JSON.parse(listed.stdout)).toHaveLength(received.length);
    const auditReport = await buildAuditReport(platform, 'ext-eval');
    expect(auditReport.markdown).toMatch(/## External evaluation/);
    expect(auditReport.markdown).toContain(
      `- requests: ${sent.length} sent; responses: ${received.length} ok`,
    );
    expect(auditReport.markdown).toMatch(/blobs, all present/);
  }, 240_000);

  it('retries a server that is down, records every attempt, then fails naming the endpoint', async () => {
    const port = await new Promise<number>((done) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const { port: free } = probe.address() as { port: number };
        probe.close(() => done(free));
      });
    });
    const result = await recon([
      'eval',
      '--policy',
      `openai:http://127.0.0.1:${port}/v1`,
      '--model',
      'x',
      '--suite',
      'complete-info',
      '--trials',
      '1',
      '--retries',
      '2',
      '--backoff-ms',
      '20',
      '--eval-id',
      'ext-down',
    ]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      new RegExp(
        `evaluation ext-down failed: http://127.0.0.1:${port}/v1/chat/completions failed request .+ after 3 attempt\\(s\\): .*ECONNREFUSED`,
      ),
    );
    const responses = (await stream('ext-down', 'external.response.received')).map(
      (e) => e.payload as PayloadOf<'external.response.received'>,
    );
    // Requests run concurrently: the one whose third attempt failed ends the evaluation, and requests still in
    // flight then are recorded as cancelled by the client (not as that request's network error).
    const byRequest = new Map<string, Array<[number, string]>>();
    for (const r of responses)
      byRequest.set(r.requestId, [...(byRequest.get(r.requestId) ?? []), [r.attempt, r.outcome]]);
    const attemptLists = [...byRequest.values()].map((attempts) => JSON.stringify(attempts));
    expect(attemptLists).toContain(
      JSON.stringify([
        [1, 'network-error'],
        [2, 'network-error'],
        [3, 'network-error'],
      ]),
    );
    for (const r of responses) expect(['network-error', 'cancelled']).toContain(r.outcome);
    responses
      .filter((r) => r.outcome === 'cancelled')
      .forEach((r) => expect(r.error).toBe('cancelled by the client before a response'));
    const failed = (await stream('ext-down', 'run.failed'))[0].payload as PayloadOf<'run.failed'>;
    expect(failed.phase).toBe('external-evaluation:complete-info');
    expect(failed.error).toMatch(/after 3 attempt/);
    expect((await auditStream(platform.pool, 'ext-down')).ok).toBe(true);
  }, 120_000);

  it('runs a config with policy.kind openai through the external-eval path, and lists it in recon runs', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'recon-ext-run-'));
    try {
      const config = join(dir, 'external.yaml');
      const yaml = [
        'name: external-x',
        'seed: 5',
        'datasets:',
        `  recon: { path: ${JSON.stringify(DATA)} }`,
        'policy:',
        '  kind: openai',
        `  baseUrl: ${baseUrl}`,
        '  model: x',
        'evaluation:',
        '  maxNewTokens: 8',
        '  heldOut: { items: 2 }',
        '  completeInformation: { trials: 1, reasks: 1 }',
        '',
      ].join('\n');
      writeFileSync(config, yaml);
      const report = join(dir, 'report.md');
      const result = await recon(['run', config, '--run-id', 'ext-run', '--report', report, '--json']);
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      const outcome = JSON.parse(result.stdout) as Record<string, unknown>;
      expect(outcome).toMatchObject({
        runId: 'ext-run',
        kind: 'external-eval',
        status: 'completed',
        reportFile: report,
        summary: expect.objectContaining({ 'recon-eval.accuracy': expect.any(Number) }),
      });

      // The same stream `recon eval` records, with the config's settings.
      const events = await stream('ext-run');
      expect(events[0].type).toBe('external.evaluation.requested');
      expect(events[0].payload).toMatchObject({
        policy: { kind: 'openai', baseUrl, model: 'x' },
        suites: ['recon-eval', 'complete-info'],
        seed: 5,
        settings: { maxTokens: 8, reconEval: { items: 2 }, completeInfo: { trials: 1, reasks: 1 } },
      });
      expect(events.filter((e) => e.type === 'evaluation.item.scored')).toHaveLength(2);
      expect(events.filter((e) => e.type === 'game.finished')).toHaveLength(10);
      expect(events.at(-1)!.type).toBe('run.completed');
      expect(outcome.events).toBe(events.length);
      expect(readFileSync(report, 'utf8')).toMatch(/external model: x at /);
      expect((await auditStream(platform.pool, 'ext-run')).ok).toBe(true);

      // `recon runs` lists both external evaluations beside each other, with kind, model, endpoint and status.
      const listed = JSON.parse((await recon(['runs', '--json'])).stdout) as Array<Record<string, unknown>>;
      const byId = new Map(listed.map((row) => [row.run, row]));
      for (const [id, status] of [
        ['ext-eval', 'completed'],
        ['ext-down', 'failed'],
        ['ext-run', 'completed'],
      ]) {
        expect(byId.get(id)).toMatchObject({
          kind: 'external-eval',
          status,
          model: 'x',
          baseUrl: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/v1$/),
          events: (await stream(id)).length,
        });
      }
      const table = (await recon(['runs'])).stdout;
      expect(table).toMatch(/kind/);
      expect(table).toContain(`x @ ${baseUrl}`);

      // Nothing to train: a config asking for it is refused before anything is recorded, naming the key.
      writeFileSync(config, `${yaml}sft:\n  steps: 3\n`);
      const training = await recon(['run', config, '--run-id', 'ext-train']);
      expect(training.code).toBe(2);
      expect(training.stderr).toContain(
        `${config}:13: 'sft': policy.kind openai is an external model: it is evaluated, never trained`,
      );
      writeFileSync(config, yaml);
      const submitted = await recon(['run', config, '--run-id', 'ext-submit', '--submit']);
      expect(submitted.code).toBe(2);
      expect(submitted.stderr).toMatch(
        /--submit: a config with policy.kind openai is evaluated by this process/,
      );
      const again = await recon(['run', config, '--run-id', 'ext-run']);
      expect(again.code).toBe(2);
      expect(again.stderr).toMatch(/--run-id ext-run: that stream already has events/);
      for (const id of ['ext-train', 'ext-submit'])
        expect(await platform.eventStore.streamVersion(id)).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 240_000);

  it('names what is wrong in bad input', async () => {
    // In-process (`main` is what bin/recon runs), so these checks do not pay a CLI start each.
    const inProcess = async (args: string[]) => {
      const saved = { ...process.env };
      Object.assign(process.env, env);
      let stderr = '';
      const spy = jest.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
        stderr += chunk.toString();
        return true;
      });
      try {
        return { code: await main(['node', 'recon', ...args]), stderr };
      } finally {
        spy.mockRestore();
        process.env = saved;
      }
    };
    const evalOfServedPolicy = (...options: string[]) =>
      inProcess(['eval', '--policy', `openai:${baseUrl}`, '--model', 'x', ...options]);
    const badSuite = await evalOfServedPolicy('--suite', 'recon-eval,chess');
    expect(badSuite).toEqual({
      code: 2,
      stderr: expect.stringMatching(
        /--suite: unknown suite 'chess' \(known: recon-eval, complete-info, gtbench\)/,
      ),
    });
    const badPolicy = await inProcess(['eval', '--policy', 'vllm:http://h', '--model', 'x']);
    expect(badPolicy).toEqual({
      code: 2,
      stderr: expect.stringMatching(/--policy 'vllm:http:\/\/h': expected openai:<base-url>/),
    });
    const badData = await evalOfServedPolicy('--data', '/nonexistent/recon');
    expect(badData).toEqual({
      code: 2,
      stderr: expect.stringMatching(/--data \/nonexistent\/recon: no such directory/),
    });
    const missing = await inProcess(['serve', 'f'.repeat(64)]);
    expect(missing).toEqual({
      code: 1,
      stderr: expect.stringContaining(`no checkpoint blob ${'f'.repeat(64)} in the blob store`),
    });
    const noStage = await inProcess(['serve', 'tiny-run:grpo']);
    expect(noStage).toEqual({
      code: 1,
      stderr: expect.stringMatching(/run tiny-run has no policy ready at stage grpo \(ready: sft\)/),
    });
    const noRun = await inProcess(['serve', 'no-such-run']);
    expect(noRun.stderr).toMatch(
      /'no-such-run' is neither a checkpoint hash \(64 hex digits\) nor a run with events/,
    );
  });
});
