import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { PayloadOf } from '@recon/contracts';
import type { FileBlobStore, RecordedEvent } from '@recon/eventlog';
import { parseExperimentConfig } from '@recon/experiment';
import { gtbenchTextGame, replayGtbenchMatch, type GameEvent, type GameFinishedPayload } from '@recon/games';
import { scratchServerUrl } from '@recon/persistence';
import { buildRunReport } from '@recon/run-report';
import { runToEnd, startEmbeddedDeployment, type EmbeddedDeployment } from '../support/embedded-deployment';
import { createTestPlatform, type TestPlatform } from '../support/platform';
import { RECON_BIN } from '../support/recon-cli';
import { recordTinyCheckpoint } from '../support/tiny-checkpoint';

const TOKEN = 'opponent-test-token';
const KEY_ENV = 'RECON_TEST_OPPONENT_KEY';

// A policy whose context holds every game prompt (an untrained one: the games need no training to be played).
const POLICY = `
policy: { kind: builtin, dModel: 32, nLayers: 1, nHeads: 2, contextLength: 2048, vocabSize: 1024, backend: wasm }
tokenizer: { vocabSize: 1024, pretokenizer: phrases }
datasets:
  curriculum: { trainItems: 40, testItems: 2, gameTrainItems: 10 }
`;

/** Another run of the same home, whose untrained checkpoint the evaluated run plays. */
const BASE = `
name: crossplay-base
seed: 11
${POLICY}
evaluation: { stages: [untrained], maxNewTokens: 4, heldOut: { items: 1 } }
`;

const PLAYED = (baseUrl: string) => `
name: llm-opponents
seed: 5
${POLICY}
sft: { steps: 1, batchSize: 2 }
evaluation:
  stages: [untrained, sft]
  maxNewTokens: 8
  heldOut: { items: 1 }
  gtbench:
    matches: 2
    games: [tictactoe, kuhn_poker, prisoners_dilemma]
    # Constrained: the policies (agent and checkpoint opponents) always answer a legal move, so matches finish.
    decoding: constrained
    opponents:
      - random
      - { kind: openai, baseUrl: '${baseUrl}', model: tiny, apiKeyEnv: ${KEY_ENV}, maxTokens: 8, retries: 1, timeoutMs: 60000 }
      - { kind: checkpoint, stage: untrained }
      - { kind: checkpoint, run: crossplay-base, stage: untrained }
`;

/**
 * GTBench against an LLM opponent served by a real `recon serve` process (a tiny checkpoint, behind a bearer
 * token), against a stage of the run itself and against another run's checkpoint: every opponent request and
 * response is recorded on the run, every match replays, and the report rates the whole pool.
 */
describe('GTBench against LLM and checkpoint opponents (recon serve, embedded deployment, real Postgres)', () => {
  let servedFrom: TestPlatform;
  let deployment: EmbeddedDeployment;
  let server: ChildProcess;
  let baseUrl: string;
  let events: RecordedEvent[];

  beforeAll(async () => {
    if (!existsSync(resolve(__dirname, '../../dist/apps/cli/src/main.js')))
      throw new Error('the CLI is not built: run `npm run build` (npm test does)');
    servedFrom = await createTestPlatform();
    await recordTinyCheckpoint(servedFrom, 'opponent-model');
    const url = new URL(scratchServerUrl());
    url.pathname = `/${servedFrom.databaseName}`;
    server = spawn(
      process.execPath,
      [RECON_BIN, 'serve', 'opponent-model:sft', '--port', '0', '--model-name', 'tiny'],
      {
        env: {
          ...process.env,
          DATABASE_URL: url.toString(),
          RECON_BLOB_DIR: (servedFrom.blobStore as FileBlobStore).root,
          RECON_BACKEND: 'cpu',
          RECON_SERVE_TOKEN: TOKEN,
        },
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
    process.env[KEY_ENV] = TOKEN;
    deployment = await startEmbeddedDeployment();
    const base = await runToEnd(deployment, 'crossplay-base', parseExperimentConfig(BASE, 'base.yaml'), {
      timeoutMs: 300_000,
    });
    expect(base.status).toBe('completed');
    await runToEnd(deployment, 'llm-opponents', parseExperimentConfig(PLAYED(baseUrl), 'played.yaml'), {
      timeoutMs: 500_000,
    });
    events = await deployment.platform.eventStore.readStream('llm-opponents');
  }, 900_000);

  afterAll(async () => {
    delete process.env[KEY_ENV];
    if (server && server.exitCode === null) {
      const exited = new Promise((done) => server.once('exit', done));
      server.kill('SIGTERM');
      await exited;
    }
    await deployment?.close();
    await servedFrom?.close();
  });

  const finished = () =>
    events.filter((e) => e.type === 'game.finished').map((e) => e.payload as GameFinishedPayload);
  const readyHash = async (runId: string, stage: string) =>
    (await deployment.platform.eventStore.readStream(runId, { types: ['policy.ready'] }))
      .map((e) => e.payload as PayloadOf<'policy.ready'>)
      .find((p) => p.stage === stage)!.checkpointHash;

  it('completes, playing each opponent where it can: a stage meets only the stages ready before it', async () => {
    expect(events.find((e) => e.type === 'run.failed')?.payload).toBeUndefined();
    expect(events.some((e) => e.type === 'run.completed')).toBe(true);
    const cells = (stage: string) =>
      [
        ...new Set(
          finished()
            .filter((f) => f.stage === stage)
            .map((f) => f.opponent),
        ),
      ].sort();
    // MCTS-free: random, the served model, the other run's checkpoint; sft also meets this run's untrained stage.
    expect(cells('untrained')).toEqual(['checkpoint:crossplay-base/untrained', 'openai:tiny', 'random']);
    expect(cells('sft')).toEqual([
      'checkpoint:crossplay-base/untrained',
      'checkpoint:untrained',
      'openai:tiny',
      'random',
    ]);
    for (const f of finished()) expect(['tictactoe', 'kuhn_poker', 'prisoners_dilemma']).toContain(f.game);
    expect(finished().filter((f) => f.opponent === 'openai:tiny')).toHaveLength(12); // 3 games x 2 matches x 2 stages
    const own = finished().filter((f) => f.opponent === 'checkpoint:untrained');
    const untrained = await readyHash('llm-opponents', 'untrained');
    own.forEach((f) => expect(f.opponentPolicy).toBe(untrained));
    const other = await readyHash('crossplay-base', 'untrained');
    finished()
      .filter((f) => f.opponent === 'checkpoint:crossplay-base/untrained')
      .forEach((f) => expect(f.opponentPolicy).toBe(other));
    // Two constrained policies always answer legally: those matches are all played out.
    own.forEach((f) => expect(f).toMatchObject({ status: 'normal', opponentInvalidCount: 0 }));
    const results = (
      events.find(
        (e) => e.type === 'evaluation.completed' && (e.payload as { stage: string }).stage === 'sft',
      )!.payload as PayloadOf<'evaluation.completed'>
    ).results;
    expect(results['gtbench-constrained.overall.openai:tiny.matches']).toBe(6);
    expect(results['gtbench-constrained.overall.checkpoint:untrained.matches']).toBe(6);
  });

  it('records every request to the served model and its response, with the token and the recorded settings', async () => {
    const sent = events
      .filter((e) => e.type === 'external.request.sent')
      .map((e) => e.payload as PayloadOf<'external.request.sent'>);
    const received = events
      .filter((e) => e.type === 'external.response.received')
      .map((e) => e.payload as PayloadOf<'external.response.received'>);
    expect(sent.length).toBeGreaterThanOrEqual(12); // at least one decision per match
    expect(received).toHaveLength(sent.length);
    received.forEach((r) => expect(r).toMatchObject({ outcome: 'ok', httpStatus: 200, suite: 'gtbench' }));
    const matchIds = new Set(
      finished()
        .filter((f) => f.opponent === 'openai:tiny')
        .map((f) => f.matchId),
    );
    for (const request of sent) {
      expect(request.model).toBe('tiny');
      expect(request.endpoint).toBe(`${baseUrl}/chat/completions`);
      expect(matchIds.has(request.requestId.replace(/\/opponent#\d+$/, ''))).toBe(true);
      const body = JSON.parse((await deployment.platform.blobStore.get(request.requestBlobHash)).toString());
      expect(body).toMatchObject({ model: 'tiny', temperature: 0.2, max_tokens: 8 });
      expect(body.messages.at(-1).role).toBe('user');
    }
    // Each opponent reply recorded as a move is the text of a recorded response.
    const replies = events
      .filter((e) => e.type === 'game.move')
      .map((e) => e.payload as PayloadOf<'game.move'>)
      .filter((m) => m.actor === 'opponent' && matchIds.has(m.matchId));
    expect(replies).toHaveLength(sent.length);
    replies.forEach((m) => expect(typeof m.rawText).toBe('string'));
  });

  it('replays every match from its events alone', () => {
    const byMatch = new Map<string, GameEvent[]>();
    for (const e of events)
      if (e.type === 'game.move' || e.type === 'game.finished') {
        const id = (e.payload as { matchId: string }).matchId;
        byMatch.set(id, [...(byMatch.get(id) ?? []), { type: e.type, payload: e.payload } as GameEvent]);
      }
    expect(byMatch.size).toBe(finished().length);
    for (const [id, match] of byMatch) {
      const replay = replayGtbenchMatch(match, gtbenchTextGame);
      expect({ id, matches: replay.matches }).toEqual({ id, matches: true });
    }
  });

  it('reports the LLM opponent, the NRA and the ratings of the whole pool', () => {
    const report = buildRunReport('llm-opponents', events);
    const table5 = report.slice(report.indexOf('## Table 5'));
    expect(table5).toContain('GTBench win rate against its opponents');
    expect(table5).toMatch(
      new RegExp(`- openai:tiny \\(openai:tiny@${baseUrl.replace(/[.]/g, '\\.')}\\): 12 matches`),
    );
    expect(table5).toMatch(/requests recorded, \d+ answered/);
    expect(table5).toContain('Ratings over the pool (5 players,');
    for (const player of ['untrained', 'sft', 'random', 'openai:tiny', 'checkpoint:crossplay-base/untrained'])
      expect(table5).toMatch(
        new RegExp(`\\| ${player.replace(/[.]/g, '\\.')} \\| [+−]\\d+ \\[[+−]\\d+, [+−]\\d+\\] \\| \\d+ \\|`),
      );
    // This run's own untrained checkpoint is the untrained stage in the pool, not a sixth player.
    expect(table5).not.toMatch(/\| checkpoint:untrained \| [+−]/);
    expect(buildRunReport('llm-opponents', events)).toBe(report); // seeded: the same report every time
  });
});
