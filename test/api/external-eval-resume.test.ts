import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { PayloadOf } from '@recon/contracts';
import { auditStream, type FileBlobStore, type RecordedEvent } from '@recon/eventlog';
import { scratchServerUrl } from '@recon/persistence';
import { startOpenAiStub, type OpenAiStub } from '../support/openai-stub';
import { createTestPlatform, type TestPlatform } from '../support/platform';
import { RECON_BIN, runRecon, type CliResult } from '../support/recon-cli';

const DATA = resolve(__dirname, '../../../shared/recon-data');
const REPO = resolve(__dirname, '../..');

/** A reply every suite can read: a complete-info choice and a Recon-Eval box. */
const ANSWER = { status: 200, content: '<s>choice_1</s> \\boxed{Option 1}' };

/**
 * `recon eval` against a scripted OpenAI-compatible server: a failed evaluation resumes under its id, an
 * id reused with other settings is refused, a request the client cancels is recorded as cancelled, and the
 * report header and the recorded code version say what ran.
 */
describe('recon eval: resuming, reused ids, cancelled requests, provenance', () => {
  let platform: TestPlatform;
  let env: Record<string, string | undefined>;
  let stub: OpenAiStub;
  const recon = (args: string[]) => runRecon(args, env, 200_000);
  const stream = (id: string, type?: string): Promise<RecordedEvent[]> =>
    platform.eventStore.readStream(id, type ? { types: [type] } : {});
  const evalArgs = (id: string, ...extra: string[]) => [
    'eval',
    '--policy',
    `openai:${stub.baseUrl}`,
    '--model',
    'x',
    '--data',
    DATA,
    '--eval-id',
    id,
    '--retries',
    '0',
    '--max-tokens',
    '16',
    ...extra,
  ];

  beforeAll(async () => {
    if (!existsSync(resolve(REPO, 'dist/apps/cli/src/main.js')))
      throw new Error('the CLI is not built: run `npm run build` (npm test does)');
    platform = await createTestPlatform();
    const url = new URL(scratchServerUrl());
    url.pathname = `/${platform.databaseName}`;
    env = {
      DATABASE_URL: url.toString(),
      RECON_BLOB_DIR: (platform.blobStore as FileBlobStore).root,
      RECON_CODE_VERSION: undefined,
    };
    stub = await startOpenAiStub(() => ANSWER);
  }, 120_000);
  afterAll(async () => {
    await stub?.close();
    await platform?.close();
  });

  it('resumes a failed evaluation under its id, asking only what was not recorded', async () => {
    const args = evalArgs(
      'ext-resume',
      '--suite',
      'recon-eval,complete-info',
      '--limit',
      '3',
      '--trials',
      '1',
      '--reasks',
      '0',
      '--concurrency',
      '1',
    );
    // The 19th request (the 16th of the games: some matches finished, others in play) is refused: the
    // evaluation stops.
    const start = stub.requests.length;
    stub.reply((_, index) => (index - start === 18 ? { status: 400, error: 'context too long' } : ANSWER));
    const failed = await recon(args);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(/evaluation ext-resume failed: .* HTTP 400/);
    const before = await stream('ext-resume');
    const refused = before
      .filter((e) => e.type === 'external.response.received')
      .map((e) => e.payload as PayloadOf<'external.response.received'>)
      .find((r) => r.outcome === 'http-error')!;
    const finishedBefore = before.filter((e) => e.type === 'game.finished').length;
    expect(finishedBefore).toBeGreaterThan(0);
    expect(finishedBefore).toBeLessThan(10);
    expect(before.filter((e) => e.type === 'evaluation.item.scored')).toHaveLength(3);
    // A match cut short leaves no moves: only finished matches have moves in the stream.
    const finishedIds = (events: RecordedEvent[]) =>
      new Set(
        events
          .filter((e) => e.type === 'game.finished')
          .map((e) => (e.payload as { matchId: string }).matchId),
      );
    const movesOf = (events: RecordedEvent[]) =>
      events.filter((e) => e.type === 'game.move').map((e) => e.payload as PayloadOf<'game.move'>);
    expect(movesOf(before).every((m) => finishedIds(before).has(m.matchId))).toBe(true);

    stub.reply(() => ANSWER);
    const sentBefore = stub.requests.length;
    const resumed = await recon(args);
    expect(resumed.stderr).not.toMatch(/error|at .*\.js/i);
    expect(resumed.code).toBe(0);

    const events = await stream('ext-resume');
    const resumption = events.find((e) => e.type === 'external.evaluation.resumed')!
      .payload as PayloadOf<'external.evaluation.resumed'>;
    expect(resumption).toMatchObject({
      resumption: 1,
      kept: { reconEvalItems: 3, matches: finishedBefore },
      codeVersion: execFileSync('git', ['-C', REPO, 'rev-parse', '--short=12', 'HEAD']).toString().trim(),
    });
    // Nothing of Recon-Eval was asked again; the refused request went on at its next attempt number.
    const sent = events
      .filter((e) => e.type === 'external.request.sent')
      .map((e) => e.payload as PayloadOf<'external.request.sent'>);
    expect(sent.filter((s) => s.suite === 'recon-eval')).toHaveLength(3);
    expect(sent.filter((s) => s.requestId === refused.requestId).map((s) => s.attempt)).toEqual([1, 2]);
    expect(stub.requests.length - sentBefore).toBe(
      sent.length - before.filter((e) => e.type === 'external.request.sent').length,
    );
    expect(events.filter((e) => e.type === 'evaluation.item.scored')).toHaveLength(3);
    // Every match finished once, and its moves are one play of it (no ply recorded twice).
    const finished = events.filter((e) => e.type === 'game.finished');
    expect(finished).toHaveLength(10);
    expect(finishedIds(events).size).toBe(10);
    const plies = movesOf(events).map((m) => `${m.matchId}/${m.ply}/${m.actor}/${m.attempt ?? 0}`);
    expect(new Set(plies).size).toBe(plies.length);
    expect(events.at(-1)!.type).toBe('run.completed');
    const completed = (await stream('ext-resume', 'evaluation.completed'))[0]
      .payload as PayloadOf<'evaluation.completed'>;
    expect(completed.results['recon-eval.items']).toBe(3);
    expect(completed.results['complete-info.overall.trials']).toBe(10);
    expect((await auditStream(platform.pool, 'ext-resume')).ok).toBe(true);

    // The report says it completed, who asked, with which code and seed; `recon runs` agrees.
    const report = await recon(['report', 'ext-resume']);
    expect(report.code).toBe(0);
    expect(report.stdout).toMatch(/- status: completed/);
    expect(report.stdout).toMatch(
      /- requested by [^?\s][^;]* at \S+; last event \S+; code [0-9a-f]{12}; seed 42/,
    );
    expect(report.stdout).toMatch(/resumed 1 time\(s\)/);
    const listed = JSON.parse((await recon(['runs', '--json'])).stdout) as Array<Record<string, unknown>>;
    expect(listed.find((row) => row.run === 'ext-resume')).toMatchObject({
      status: 'completed',
      failure: null,
    });

    // Run again once completed: its recorded results, nothing asked or recorded.
    const version = await platform.eventStore.streamVersion('ext-resume');
    const again = await recon([...args, '--json']);
    expect(again.code).toBe(0);
    expect((JSON.parse(again.stdout) as { results: unknown }).results).toEqual(completed.results);
    expect(await platform.eventStore.streamVersion('ext-resume')).toBe(version);
  }, 300_000);

  it('refuses an id recorded with other settings, naming them, without a trace or a new event', async () => {
    const version = await platform.eventStore.streamVersion('ext-resume');
    const other = await recon(
      evalArgs('ext-resume', '--suite', 'recon-eval,complete-info', '--limit', '2', '--trials', '1').map(
        (a) => (a === 'x' ? 'y' : a),
      ),
    );
    expect(other.code).toBe(1);
    expect(other.stderr).toContain(
      'evaluation ext-resume cannot be resumed: it was requested with other settings',
    );
    expect(other.stderr).toContain("policy.model: 'x' recorded, 'y' now");
    expect(other.stderr).toContain('settings.reconEval.items: 3 recorded, 2 now');
    expect(other.stderr).not.toMatch(/IdempotencyConflictError|\n\s+at /);
    expect(await platform.eventStore.streamVersion('ext-resume')).toBe(version);
  }, 120_000);

  it("records a request the client cancelled as cancelled, not as another request's error", async () => {
    // Two items in flight: the first to arrive never gets an answer, the second is refused and stops the rest.
    const first = stub.requests.length;
    stub.reply((_, index) => (index === first ? 'hang' : { status: 400, error: 'refused' }));
    const result = await recon(
      evalArgs('ext-cancel', '--suite', 'recon-eval', '--limit', '2', '--concurrency', '2'),
    );
    expect(result.code).toBe(1);
    const responses = (await stream('ext-cancel', 'external.response.received')).map(
      (e) => e.payload as PayloadOf<'external.response.received'>,
    );
    expect(responses.map((r) => r.outcome).sort()).toEqual(['cancelled', 'http-error']);
    const cancelled = responses.find((r) => r.outcome === 'cancelled')!;
    const refused = responses.find((r) => r.outcome === 'http-error')!;
    expect(cancelled.requestId).not.toBe(refused.requestId);
    expect(cancelled.error).toBe('cancelled by the client before a response');
    expect(cancelled.httpStatus).toBeUndefined();
    expect((await auditStream(platform.pool, 'ext-cancel')).ok).toBe(true);
  }, 120_000);

  it("records the checkout's own commit whatever the current directory, and a baked version first", async () => {
    stub.reply(() => ANSWER);
    const commit = execFileSync('git', ['-C', REPO, 'rev-parse', '--short=12', 'HEAD']).toString().trim();
    const elsewhere = mkdtempSync(join(tmpdir(), 'recon-cwd-'));
    const otherRepo = mkdtempSync(join(tmpdir(), 'recon-other-repo-'));
    try {
      const git = (...args: string[]) =>
        execFileSync('git', ['-C', otherRepo, '-c', 'user.name=t', '-c', 'user.email=t@t', ...args]);
      git('init', '-q');
      writeFileSync(join(otherRepo, 'f'), 'x');
      git('add', 'f');
      git('commit', '-q', '-m', 'other');
      const otherCommit = git('rev-parse', '--short=12', 'HEAD').toString().trim();
      const recorded = async (id: string, cwd: string, extraEnv: Record<string, string> = {}) => {
        const result = await reconIn(cwd, evalArgs(id, '--suite', 'recon-eval', '--limit', '1'), {
          ...env,
          ...extraEnv,
        });
        expect(result.stderr).not.toMatch(/recon:/);
        expect(result.code).toBe(0);
        const [requested] = await stream(id, 'external.evaluation.requested');
        return (requested.payload as PayloadOf<'external.evaluation.requested'>).codeVersion;
      };
      expect(await recorded('ext-cwd-outside', elsewhere)).toBe(commit);
      const inOther = await recorded('ext-cwd-other-repo', otherRepo);
      expect(inOther).toBe(commit);
      expect(inOther).not.toBe(otherCommit);
      expect(await recorded('ext-cwd-baked', elsewhere, { RECON_CODE_VERSION: 'image-1.2.3' })).toBe(
        'image-1.2.3',
      );
    } finally {
      rmSync(elsewhere, { recursive: true, force: true });
      rmSync(otherRepo, { recursive: true, force: true });
    }
  }, 200_000);
});

/** `recon <args>` started in another directory, with `env` over this process's environment. */
function reconIn(cwd: string, args: string[], env: Record<string, string | undefined>): Promise<CliResult> {
  const childEnv: NodeJS.ProcessEnv = { ...process.env };
  for (const [key, value] of Object.entries(env)) {
    if (value === undefined) delete childEnv[key];
    else childEnv[key] = value;
  }
  return new Promise((done) => {
    execFile(
      process.execPath,
      [RECON_BIN, ...args],
      { cwd, env: childEnv, timeout: 120_000 },
      (error, stdout, stderr) =>
        done({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}
