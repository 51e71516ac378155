import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { PayloadOf } from '@recon/contracts';
import type { FileBlobStore } from '@recon/eventlog';
import type { GameFinishedPayload } from '@recon/games';
import { scratchServerUrl } from '@recon/persistence';
import { createTestPlatform, type TestPlatform } from '../support/platform';
import { RECON_BIN, runRecon } from '../support/recon-cli';
import { recordTinyCheckpoint } from '../support/tiny-checkpoint';

const TOKEN = 'eval-opponents-token';
const KEY_ENV = 'RECON_TEST_RIVAL_KEY';
/** A line of a Node stack trace: what no refusal of a bad opponent may print. */
const STACK_LINE = /^\s+at /m;

/**
 * `recon eval --opponents` with an LLM opponent (a real `recon serve` process behind a bearer token, read
 * from the variable the spec names) and a checkpoint of a run of the home, written as a config writes them:
 * every opponent request is recorded on the evaluation's stream beside the evaluated model's, and a bad
 * opponent is refused in one line naming it, before anything is recorded.
 */
describe('recon eval --opponents: LLM and checkpoint opponents from the command line (recon serve)', () => {
  let platform: TestPlatform;
  let env: Record<string, string>;
  let server: ChildProcess;
  let baseUrl: string;
  const home = mkdtempSync(join(tmpdir(), 'recon-eval-opponents-'));

  const recon = (args: string[], extra: Record<string, string | undefined> = {}) =>
    runRecon(args, { ...env, ...extra }, 300_000);
  const evalArgs = (evalId: string, opponents: string) => [
    'eval',
    '--policy',
    `openai:${baseUrl}`,
    '--model',
    'player',
    '--api-key-env',
    KEY_ENV,
    '--suite',
    'gtbench',
    '--matches',
    '2',
    '--max-tokens',
    '8',
    '--opponents',
    opponents,
    '--eval-id',
    evalId,
    '--json',
  ];

  beforeAll(async () => {
    if (!existsSync(resolve(__dirname, '../../dist/apps/cli/src/main.js')))
      throw new Error('the CLI is not built: run `npm run build` (npm test does)');
    platform = await createTestPlatform();
    await recordTinyCheckpoint(platform, 'tiny-run');
    const url = new URL(scratchServerUrl());
    url.pathname = `/${platform.databaseName}`;
    env = {
      DATABASE_URL: url.toString(),
      RECON_BLOB_DIR: (platform.blobStore as FileBlobStore).root,
      RECON_BACKEND: 'cpu',
      RECON_HOME: home,
      [KEY_ENV]: TOKEN,
    };
    server = spawn(
      process.execPath,
      [RECON_BIN, 'serve', 'tiny-run:sft', '--port', '0', '--model-name', 'tiny'],
      {
        env: { ...process.env, ...env, RECON_SERVE_TOKEN: TOKEN },
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

  it('plays an engine, the served model and a checkpoint, recording every opponent request and response', async () => {
    const rival = `openai:${baseUrl}#rival&apiKeyEnv=${KEY_ENV}&maxTokens=8&retries=0`;
    const result = await recon(
      evalArgs('ext-opponents', `random,${rival},checkpoint:tiny-run/sft#maxNewTokens=4`),
    );
    // The checkpoint plays in this process: tfjs's hint about its native backend may be on stderr, nothing else.
    expect({
      code: result.code,
      stderr: result.stderr.replace(/\n?=+\n[^=]*tfjs-node[^=]*=+\n/, ''),
    }).toEqual({
      code: 0,
      stderr: '',
    });
    const { results } = JSON.parse(result.stdout) as { results: Record<string, number> };
    for (const opponent of ['random', 'openai:rival', 'checkpoint:tiny-run/sft'])
      expect(results[`gtbench.overall.${opponent}.matches`]).toBe(20); // 10 games x 2 matches

    const events = await platform.eventStore.readStream('ext-opponents');
    // The settings recorded are the config's for the same opponents: the key's variable, never the key.
    const requested = events[0].payload as PayloadOf<'external.evaluation.requested'>;
    expect((requested.settings as { gtbench: { opponents: unknown[] } }).gtbench.opponents).toEqual([
      'random',
      {
        kind: 'openai',
        baseUrl,
        model: 'rival',
        apiKeyEnv: KEY_ENV,
        temperature: 0.2,
        maxTokens: 8,
        concurrency: 4,
        timeoutMs: 120_000,
        retries: 0,
        minBackoffMs: 500,
      },
      { kind: 'checkpoint', run: 'tiny-run', stage: 'sft', maxNewTokens: 4 },
    ]);
    expect(JSON.stringify(events.map((e) => e.payload))).not.toContain(TOKEN);

    const finished = (opponent: string) =>
      events
        .filter((e) => e.type === 'game.finished')
        .map((e) => e.payload as GameFinishedPayload)
        .filter((f) => f.opponent === opponent);
    const llmMatches = new Set(finished('openai:rival').map((f) => f.matchId));
    finished('openai:rival').forEach((f) => expect(f.opponentPolicy).toBe(`openai:rival@${baseUrl}`));
    const checkpointHash = (await platform.eventStore.readStream('tiny-run', { types: ['policy.ready'] }))[0]
      .payload as PayloadOf<'policy.ready'>;
    finished('checkpoint:tiny-run/sft').forEach((f) =>
      expect(f.opponentPolicy).toBe(checkpointHash.checkpointHash),
    );

    const sent = events
      .filter((e) => e.type === 'external.request.sent')
      .map((e) => e.payload as PayloadOf<'external.request.sent'>);
    const received = events
      .filter((e) => e.type === 'external.response.received')
      .map((e) => e.payload as PayloadOf<'external.response.received'>);
    const rivalRequests = sent.filter((r) => r.model === 'rival');
    // In the second match of each game the opponent moves first: every game asked it at least once.
    expect(rivalRequests.length).toBeGreaterThanOrEqual(10);
    for (const request of rivalRequests) {
      expect(request).toMatchObject({
        suite: 'gtbench',
        endpoint: `${baseUrl}/chat/completions`,
        attempt: 1,
      });
      expect(request.requestId).toMatch(/\/opponent#\d+$/);
      expect(llmMatches.has(request.requestId.replace(/\/opponent#\d+$/, ''))).toBe(true);
      const body = JSON.parse((await platform.blobStore.get(request.requestBlobHash)).toString()) as object;
      expect(body).toMatchObject({ model: 'rival', temperature: 0.2, max_tokens: 8 });
    }
    // Each request its response, answered by the served model (the bearer token was sent).
    expect(received.map((r) => `${r.requestId}@${r.attempt}`).sort()).toEqual(
      sent.map((s) => `${s.requestId}@${s.attempt}`).sort(),
    );
    received.forEach((r) => expect(r).toMatchObject({ outcome: 'ok', httpStatus: 200 }));
    // Only the LLM opponent's requests are the opponent's: the checkpoint plays in this process, unrecorded.
    expect(sent.filter((r) => r.requestId.includes('/opponent#'))).toEqual(rivalRequests);
    expect(events.at(-1)!.type).toBe('run.completed');

    const report = await recon(['report', 'ext-opponents']);
    expect(report.code).toBe(0);
    const escaped = baseUrl.replace(/[.]/g, '\\.');
    expect(report.stdout).toMatch(
      new RegExp(
        `- openai:rival \\(openai:rival@${escaped}\\): 20 matches, .*; ${rivalRequests.length} requests recorded, ${rivalRequests.length} answered\\.`,
      ),
    );
    expect(report.stdout).toMatch(/- checkpoint:tiny-run\/sft \([0-9a-f]{64}\): 20 matches/);
  }, 400_000);

  it('refuses a bad opponent in one line naming it, exit 2, with nothing recorded', async () => {
    const cases: Array<[string, string, Record<string, string | undefined>?]> = [
      [
        'random,stockfish',
        "recon: --opponents 'stockfish': not an opponent (known forms: random, mcts, mcts-fair, tit-for-tat, openai:<base-url>#<model>, checkpoint:<run>/<stage>)",
      ],
      [
        `openai:${baseUrl}`,
        `recon: --opponents 'openai:${baseUrl}': name the model after the base URL: openai:<base-url>#<model>`,
      ],
      [
        `openai:${baseUrl}#rival&temp=1`,
        `recon: --opponents 'openai:${baseUrl}#rival&temp=1': Unrecognized key: "temp"`,
      ],
      [
        'checkpoint:sft',
        "recon: --opponents 'checkpoint:sft': an external model has no stages of its own: name the run, checkpoint:<run>/<stage>",
      ],
      // Refused once the home is open, still before the evaluation records anything.
      [
        'random,checkpoint:no-such-run/sft',
        "recon: --opponents 'checkpoint:no-such-run/sft': no run no-such-run in this home",
      ],
      [
        'checkpoint:tiny-run/grpo',
        "recon: --opponents 'checkpoint:tiny-run/grpo': run tiny-run has no policy ready at stage grpo (ready: sft)",
      ],
      [
        `openai:${baseUrl}#rival&apiKeyEnv=RECON_TEST_UNSET_KEY`,
        `recon: --opponents 'openai:${baseUrl}#rival&apiKeyEnv=RECON_TEST_UNSET_KEY': the environment variable RECON_TEST_UNSET_KEY (apiKeyEnv) is not set where the evaluation runs`,
        { RECON_TEST_UNSET_KEY: undefined },
      ],
    ];
    for (const [index, [opponents, message, extra]] of cases.entries()) {
      const evalId = `ext-bad-${index}`;
      const result = await recon(evalArgs(evalId, opponents), extra);
      expect({ opponents, code: result.code, stderr: result.stderr }).toEqual({
        opponents,
        code: 2,
        stderr: `${message}\n`,
      });
      expect(result.stderr).not.toMatch(STACK_LINE);
      expect(await platform.eventStore.streamVersion(evalId)).toBe(0);
    }
  }, 300_000);
});
