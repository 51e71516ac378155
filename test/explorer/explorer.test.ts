import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { NewEvent } from '@recon/eventlog';
import {
  completeInfoGame,
  gtbenchTextGame,
  pairedDifference,
  pairOutcomes,
  randomMove,
  RandomTextAgent,
  runCompleteInfoTrial,
  runGtbenchMatch,
  scheduleMatches,
  ScriptedAgent,
  type GameEvent,
} from '@recon/games';
import { issueToken } from '@recon/service-kit';
import { requestRescore } from '../../apps/cli/src/run/rescore';
import { tamper } from '../support/attacker';
import { createTestPlatform, type TestPlatform } from '../support/platform';
import { RECON_BIN, runRecon } from '../support/recon-cli';
import { syntheticRunEvents, TEST_PRODUCER } from '../support/synthetic-run';

// The page's globals, used in the functions that run in the browser (page.evaluate, waitForFunction).
declare const document: {
  querySelector(selector: string): { textContent: string | null } | null;
  querySelectorAll(selector: string): { length: number };
  getElementById(id: string): { dataset: Record<string, string | undefined> } | null;
};
declare const sessionStorage: { getItem(key: string): string | null };
declare const window: unknown;

/** Debian's Chromium (scripts/setup.sh installs it); playwright-core downloads no browser. */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARTIFACTS = resolve(__dirname, 'artifacts');
const RUN = 'explorer-run';
const SCRIPT = '<script>window.__injected = 1</script><img src=x onerror="window.__injected = 2">';

const hex = (text: string) => createHash('sha256').update(text).digest('hex');

const RUN_B = 'explorer-run-b';
const TAMPERED = 'explorer-tampered';
const BIG = 'explorer-6k';
/** Held-out items right in each run (of 40): 24 in the first, 30 in the second, paired by item id. */
const HELD_OUT = 40;
const rightIn = (run: string, item: number) => (run === RUN ? item % 5 < 3 : item % 4 !== 0);

/** Held-out items of a run at stage grpo (suite recon-eval), both graders' verdicts recorded. */
function heldOutItems(run: string): NewEvent[] {
  return Array.from({ length: HELD_OUT }, (_, i): NewEvent => ({
    type: 'evaluation.item.scored',
    payload: {
      suite: 'recon-eval',
      stage: 'grpo',
      itemId: `item-${i}`,
      category: 'Pure Nash',
      completion: '\\boxed{[[0, 1]]}',
      parsedAnswer: '[[0, 1]]',
      gold: '[[0, 1]]',
      correct: rightIn(run, i),
      verdicts: { exact: rightIn(run, i), paper: rightIn(run, i) },
    },
  }));
}

/**
 * Game events as the evaluation service records them, played by libs/games' own runners: a self-play trial
 * of a complete-information game whose first reply is unparseable (re-asked), and two tic-tac-toe matches
 * of a scripted text agent against the random engine.
 */
async function gameEvents(run: string): Promise<NewEvent[]> {
  const events: GameEvent[] = [];
  const emit = (event: GameEvent) => void events.push(event);
  await runCompleteInfoTrial(
    completeInfoGame('Stag Hunt'),
    new ScriptedAgent('scripted', ['I would rather not say <script>alert(1)</script>', '<s>choice_1</s>']),
    { matchId: `${run}/Stag Hunt/self-play/0`, stage: 'grpo', seed: 7, emit },
  );
  const { game, parse } = gtbenchTextGame('tictactoe');
  for (const match of scheduleMatches(run, 42, 'tictactoe', 'random', 2))
    await runGtbenchMatch(
      { game, parse },
      new RandomTextAgent(match.seed, (move) => `I play ${move}`),
      { name: 'random', move: randomMove },
      { match, stage: 'grpo', emit },
    );
  return events.map((e) => ({ type: e.type, payload: e.payload }) as NewEvent);
}

/** A small recorded run: the demo's synthetic run with datasets, and one completion that tries to inject markup. */
async function recordedRun(): Promise<NewEvent[]> {
  const events = syntheticRunEvents(RUN, { sftSteps: 80, grpoSteps: 8 });
  const completed = events.find((e) => e.type === 'run.completed')!;
  completed.payload = { summary: { 'grpo.recon-eval.accuracy': 1 } };
  const rollout = events.find(
    (e) => e.type === 'rollout.generated' && (e.payload as { step: number }).step === 2,
  )!;
  (rollout.payload as { completion: string }).completion = `thinking ${SCRIPT} \\boxed{Option 1}`;
  events.splice(1, 0, {
    type: 'dataset.resolved',
    payload: {
      datasets: [
        {
          role: 'sft',
          name: 'recon-sft',
          versionHash: hex('sft'),
          blobHash: hex('sft blob'),
          split: 'sft',
          rowCount: 100,
        },
        {
          role: 'eval',
          name: 'recon-eval',
          versionHash: hex('eval'),
          blobHash: hex('eval blob'),
          split: 'eval',
          rowCount: 20,
        },
      ],
    },
  });
  events.splice(events.length - 1, 0, ...heldOutItems(RUN), ...(await gameEvents(RUN)));
  return events;
}

/** The compared run: fewer SFT steps, a higher learning rate, other held-out verdicts. */
function comparedRun(): NewEvent[] {
  const events = syntheticRunEvents(RUN_B, { sftSteps: 60, grpoSteps: 8 });
  const requested = events[0].payload as unknown as {
    config: { sft: { steps: number; learningRate?: number } };
  };
  requested.config.sft.learningRate = 3e-4;
  for (const e of events) if (e.type === 'sft.step.completed') (e.payload as { loss: number }).loss *= 0.8;
  events.splice(events.length - 1, 0, ...heldOutItems(RUN_B));
  return events;
}

/** The test database's URL, for the CLI. */
function databaseUrlOf(platform: TestPlatform): string {
  const databaseUrl = new URL(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres');
  databaseUrl.pathname = `/${platform.databaseName}`;
  return databaseUrl.toString();
}

/** `recon api` on a free port against the test's database; resolves with its URL once it listens. */
function startApi(platform: TestPlatform): Promise<{ process: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [RECON_BIN, 'api', '--port', '0'], {
    env: { ...process.env, DATABASE_URL: databaseUrlOf(platform), RECON_BLOB_DIR: platform.blobDir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolveUrl, reject) => {
    let output = '';
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /listening on (http:\/\/\S+)/.exec(output);
      if (match) resolveUrl({ process: child, url: match[1].replace('[::1]', '127.0.0.1') });
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('exit', (code) => reject(new Error(`recon api exited with ${code}: ${output}`)));
  });
}

describe('run explorer in Chromium', () => {
  let platform: TestPlatform;
  let api: { process: ChildProcess; url: string };
  let browser: Browser;
  let page: Page;
  let viewer: string;
  let operator: string;
  const consoleErrors: string[] = [];

  beforeAll(async () => {
    if (!existsSync(resolve(__dirname, '../../dist/explorer/app.js')))
      throw new Error('the explorer is not built: run `npm run build` (npm test does)');
    if (!existsSync(CHROMIUM))
      throw new Error(`no Chromium at ${CHROMIUM}: apt-get install chromium (scripts/setup.sh does)`);
    mkdirSync(ARTIFACTS, { recursive: true });
    platform = await createTestPlatform();
    const runs: Array<[string, NewEvent[]]> = [
      [RUN, await recordedRun()],
      [RUN_B, comparedRun()],
      [TAMPERED, syntheticRunEvents(TAMPERED)],
      // ~6,000 events through the demo's synthetic path: 1,000 SFT steps, 1,000 GRPO steps of 2 rollouts.
      [BIG, syntheticRunEvents(BIG, { sftSteps: 1000, grpoSteps: 1000 })],
    ];
    for (const [runId, events] of runs)
      await platform.eventStore.append(runId, events, {
        expectedVersion: 'no-stream',
        producer: TEST_PRODUCER,
      });
    // The blobs the runs name (checkpoints, dataset files), so only the tampering fails an audit.
    for (const content of [`checkpoint ${RUN}`, `checkpoint ${TAMPERED}`, 'sft blob', 'eval blob'])
      await platform.blobStore.put(content);
    // A payload changed behind the log's back (the append-only trigger bypassed as a superuser could).
    await tamper(
      platform.databaseUrl,
      `UPDATE recon_events SET payload = jsonb_set(payload::jsonb, '{loss}', '0.001')::json WHERE stream_id = $1 AND position = 3`,
      [TAMPERED],
    );
    // Another reward's scores of the run's rollouts, as `recon replay --rescore` records them.
    const rescore = await requestRescore(
      platform.eventStore,
      RUN,
      { rewardId: 'paper-reward', rewardVersion: '2' },
      { actor: 'test', producer: TEST_PRODUCER },
    );
    await platform.eventStore.append(
      rescore.streamId,
      [0, 1].map((g) => ({
        type: 'reward.scored',
        payload: {
          rolloutId: `2-p1-${g}`,
          step: 2,
          rewardId: 'paper-reward',
          rewardVersion: '2',
          total: g === 0 ? 0.25 : 0.75,
          components: { correctness: g === 0 ? 0.25 : 0.75 },
        },
      })),
      { expectedVersion: 'any', producer: TEST_PRODUCER },
    );
    const token = async (role: 'viewer' | 'operator') =>
      (
        await issueToken(
          platform,
          { name: `browser ${role}`, role, expiresInMs: null, actor: 'test' },
          TEST_PRODUCER,
        )
      ).token;
    viewer = await token('viewer');
    operator = await token('operator');
    api = await startApi(platform);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.on('console', (message) => {
      if (message.type() === 'error') consoleErrors.push(message.text());
    });
    page.on('pageerror', (error) => consoleErrors.push(error.message));
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    api?.process.kill('SIGTERM');
    await platform?.close();
  });

  const shot = (name: string) => page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });

  it('serves the app with a strict Content-Security-Policy and asks for a token', async () => {
    const response = await page.goto(`${api.url}/`);
    const csp = response!.headers()['content-security-policy'];
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    await page.waitForSelector('form.login');
    await page.fill('#token', 'recon_0123456789abcdef_wrong-wrong-wrong-wrong-wrong-wrong-wrong-12');
    await page.click('form.login button[type=submit]');
    await page.waitForFunction(() =>
      document.querySelector('[role=alert]')?.textContent?.includes('API token refused'),
    );
    await shot('login-refused');
    consoleErrors.length = 0; // the refused token's 401
  });

  it('logs in with a viewer token (kept in sessionStorage, never in a URL) and lists the run live', async () => {
    const requested: string[] = [];
    page.on('request', (request) => requested.push(request.url()));
    page.on('response', (response) => {
      if (response.request().url().includes('/live/runs')) requested.push(`stream ${response.status()}`);
    });
    await page.fill('#token', viewer);
    await page.click('form.login button[type=submit]');
    await page.waitForSelector(`tr[data-run="${RUN}"]`);
    await page.waitForFunction(() => document.querySelector('.live')?.textContent?.startsWith('live'));
    const row = await page.textContent(`tr[data-run="${RUN}"]`);
    expect(row).toContain('completed');
    expect(row).toContain(`synthetic ${RUN}`);
    expect(row).toContain('grpo 100.0%');
    expect(await page.evaluate(() => sessionStorage.getItem('recon.explorer.token'))).toBe(viewer);
    // A run requested now shows up without a reload (the page is told over the event stream): requested
    // while nothing else is recorded, running once it records its first steps.
    const [requested0, ...steps] = syntheticRunEvents('explorer-live', { sftSteps: 3 });
    await platform.eventStore.append('explorer-live', [requested0], {
      expectedVersion: 'no-stream',
      producer: TEST_PRODUCER,
    });
    await page.waitForSelector('tr[data-run="explorer-live"] .status.requested');
    expect(await page.textContent('tr[data-run="explorer-live"] .status')).toBe('requested');
    await platform.eventStore.append('explorer-live', steps.slice(0, 3), {
      expectedVersion: 1,
      producer: TEST_PRODUCER,
    });
    await page.waitForSelector('tr[data-run="explorer-live"] .status.running');
    expect(await page.textContent('tr[data-run="explorer-live"]')).toMatch(/running\d+[smhd] ago/);
    await shot('runs');
    expect(requested.some((url) => url.includes(viewer))).toBe(false);
    expect(page.url()).not.toContain(viewer);
  });

  it('shows a run that stopped recording events as stalled, with its last event’s age, in the list and on its page', async () => {
    // The log stamps each event's occurredAt itself, so the page's clock is moved instead: it starts 14
    // minutes after the last event of a run that recorded its request and first SFT steps, and nothing since.
    const recorded = await platform.eventStore.append(
      'explorer-stalled',
      syntheticRunEvents('explorer-stalled', { sftSteps: 5 }).slice(0, 6),
      { expectedVersion: 'no-stream', producer: TEST_PRODUCER },
    );
    const lastEventAt = Date.parse(recorded.at(-1)!.occurredAt);
    const later = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const errors: string[] = [];
    later.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    later.on('pageerror', (e) => errors.push(e.message));
    await later.clock.install({ time: lastEventAt + 14 * 60_000 - 1000 });
    await later.clock.pauseAt(lastEventAt + 14 * 60_000);
    await later.goto(`${api.url}/`);
    await later.fill('#token', viewer);
    await later.click('form.login button[type=submit]');
    const stalled = 'tr[data-run="explorer-stalled"]';
    await later.waitForSelector(`${stalled} .status.running`);
    expect(await later.textContent(stalled)).toContain('running14m ago');
    // Two minutes on, with no event: the list's own tick brings its ages up to the clock, and the run over
    // the 15-minute threshold to stalled (no new data from the server).
    await later.clock.runFor(2 * 60_000);
    await later.waitForSelector(`${stalled} .status.stalled`);
    expect(await later.textContent(stalled)).toContain('stalled16m ago');
    expect(await later.getAttribute(`${stalled} .status`, 'title')).toContain(
      'no event for more than 15 minutes',
    );
    // Finished runs keep their status; explorer-live, which recorded its steps earlier still, is stalled too.
    expect(await later.textContent(`tr[data-run="${RUN}"] .status`)).toBe('completed');
    expect(await later.textContent('tr[data-run="explorer-live"] .status')).toBe('stalled');
    await later.screenshot({ path: join(ARTIFACTS, 'runs-stalled.png'), fullPage: true });
    await later.selectOption('#status-filter', 'stalled');
    expect(await later.$$eval('table.runs tbody tr', (rows) => rows.map((r) => r.dataset.run))).toEqual([
      'explorer-stalled',
      'explorer-live',
    ]);
    await later.clock.resume();
    await later.click(`${stalled} a`);
    await later.waitForSelector('p.meta .status.stalled');
    expect(await later.textContent('p.meta')).toContain('training · stalled · last event 16m ago');
    await later.screenshot({ path: join(ARTIFACTS, 'run-stalled.png') });
    expect(errors).toEqual([]);
    await later.close();
  });

  it('opens the run page: charts with axes, datasets with hashes, config and the report tables', async () => {
    const started = Date.now();
    await page.click(`tr[data-run="${RUN}"] a`);
    await page.waitForSelector('figure.chart canvas');
    await page.waitForSelector('table.report');
    const interactiveMs = Date.now() - started;
    const inPage = await page.evaluate(() => document.getElementById('main')?.dataset.interactiveMs);
    process.stdout.write(
      `explorer: run page interactive in ${interactiveMs} ms (fetch and render ${inPage} ms in the page)\n`,
    );
    const titles = await page.$$eval('.u-title', (nodes) => nodes.map((n) => n.textContent));
    expect(titles).toEqual(
      expect.arrayContaining([
        'SFT loss',
        'GRPO reward (mean and per component)',
        'GRPO KL to the reference',
        'SFT gradient norm',
        'SFT learning rate',
      ]),
    );
    // Hovering a point shows its values in the legend.
    const over = (await page.$$('.u-over'))[0];
    const box = (await over.boundingBox())!;
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    const legend = await page.$eval('.uplot .u-legend', (n) => n.textContent ?? '');
    expect(legend).toMatch(/step\d+/);
    const text = await page.textContent('#main');
    expect(text).toContain(hex('sft'));
    expect(text).toContain('Table 3 — recon-eval accuracy by stage');
    expect(text).toContain('strict: accuracy [95% CI]');
    expect(await page.textContent('pre.config')).toContain('steps: 80');
    await shot('run');
    await page.screenshot({ path: join(ARTIFACTS, 'run-viewport.png') });
  });

  it('pages through the events, filters them by type and pretty-prints each payload', async () => {
    await page.click('a[href$="/events"]');
    await page.waitForSelector('ol.events li');
    expect(await page.$$eval('ol.events li', (n) => n.length)).toBe(100);
    await page.click('#next-page');
    await page.waitForFunction(() =>
      document.querySelector('ol.events summary')?.textContent?.startsWith('#101'),
    );
    await page.fill('#event-type', 'reward.scored');
    await page.click('form.toolbar button[type=submit]');
    await page.waitForFunction(() => document.querySelectorAll('ol.events li').length === 16);
    await page.click('ol.events li summary');
    expect(await page.textContent('ol.events li pre')).toContain('"rewardId": "recon-hierarchical"');
    await shot('events');
  });

  it('shows a GRPO step’s group side by side, sorted by reward, a <script> completion as text', async () => {
    await page.goto(`${api.url}/explorer/#/runs/${RUN}/steps/2?sort=reward`);
    await page.waitForSelector('article.completion');
    const rewards = await page.$$eval('article.completion .reward', (n) => n.map((e) => e.textContent));
    expect(rewards).toEqual(['5.000', '-3.000']);
    const texts = await page.$$eval('pre.completion-text', (n) => n.map((e) => e.textContent));
    expect(texts).toContain(`thinking ${SCRIPT} \\boxed{Option 1}`);
    expect(
      await page.evaluate(() => (window as unknown as { __injected?: number }).__injected),
    ).toBeUndefined();
    expect(await page.$$('article.completion script, article.completion img')).toHaveLength(0);
    expect(await page.textContent('article.completion')).toContain('advantage');
    // The rescore stream's totals beside the original reward (sorted by reward: #0 first).
    expect(await page.$$eval('article.completion .rescore', (n) => n.map((e) => e.textContent))).toEqual([
      '0.250',
      '0.750',
    ]);
    // Two completions ticked: their word diff, the injected markup still text.
    await page.check('input[data-diff="2-p1-0"]');
    await page.check('input[data-diff="2-p1-1"]');
    await page.waitForSelector('pre.diff');
    expect(await page.$$eval('pre.diff del', (n) => n.map((e) => e.textContent))).toEqual(
      expect.arrayContaining([expect.stringContaining('<script>')]),
    );
    expect(await page.$$eval('pre.diff ins', (n) => n.map((e) => e.textContent))).toEqual(
      expect.arrayContaining(['2}']),
    );
    expect(await page.$$('pre.diff script')).toHaveLength(0);
    await shot('grpo-group');
    expect(consoleErrors).toEqual([]);
  });

  it('lists the game replays with filters, and replays a match move by move', async () => {
    await page.goto(`${api.url}/explorer/#/runs/${RUN}`);
    await page.click('a[href$="/games"]');
    await page.waitForSelector('table.matches tbody tr');
    expect(await page.$$eval('table.matches tbody tr', (n) => n.length)).toBe(3);
    await page.selectOption('#filter-game', 'tictactoe');
    await page.waitForFunction(() => document.querySelectorAll('table.matches tbody tr').length === 2);
    await shot('games');
    await page.selectOption('#filter-game', 'Stag Hunt');
    await page.waitForFunction(() => document.querySelectorAll('table.matches tbody tr').length === 1);
    expect(await page.textContent('table.matches tbody tr')).toContain('Nash equilibrium, Pareto-optimal');
    await page.click('table.matches tbody tr a');
    await page.waitForSelector('li.move');
    // The unparseable first reply: why it is invalid, then the re-asked one parsed.
    const moves = await page.$$eval('li.move h3', (n) => n.map((e) => e.textContent ?? ''));
    expect(moves[0]).toContain('INVALID: no <s> tag in the answer');
    expect(moves[1]).toMatch(/attempt 2 .*move choice_1/);
    expect(await page.textContent('pre.payoffs')).toContain('Alice \\ Bob');
    expect(await page.textContent('#replay-check')).toContain('the same outcome (equilibrium)');
    expect(await page.$$('li.move script')).toHaveLength(0);
    expect((await page.$$eval('pre.reply', (n) => n.map((e) => e.textContent)))[0]).toContain(
      '<script>alert(1)</script>',
    );
    await shot('game-trial');
    // A tic-tac-toe match: the board after each move.
    await page.goto(`${api.url}/explorer/#/runs/${RUN}/games?game=tictactoe`);
    await page.waitForSelector('table.matches tbody tr a');
    await page.click('table.matches tbody tr a');
    await page.waitForSelector('pre.state');
    expect(await page.$$eval('pre.state', (n) => n.length)).toBeGreaterThanOrEqual(5);
    expect(await page.textContent('#replay-check')).toContain('the same outcome');
    await shot('game-match');
    expect(consoleErrors).toEqual([]);
  });

  it('compares two runs: config diff, overlaid curves, paired change with interval and McNemar p', async () => {
    await page.goto(`${api.url}/explorer/#/runs`);
    await page.waitForSelector(`tr[data-run="${RUN_B}"]`);
    await page.check(`input[data-compare="${RUN}"]`);
    await page.check(`input[data-compare="${RUN_B}"]`);
    await page.click('#compare-runs');
    await page.waitForSelector('table.paired-changes');
    const diff = await page.textContent('table.config-diff');
    expect(diff).toContain('sft.steps');
    expect(diff).toContain('sft.learningRate');
    const titles = await page.$$eval('.u-title', (nodes) => nodes.map((n) => n.textContent));
    expect(titles).toEqual(expect.arrayContaining(['SFT loss', 'GRPO reward mean']));
    const legend = await page.$eval('.uplot .u-legend', (n) => n.textContent ?? '');
    expect(legend).toContain(`synthetic ${RUN_B}`);
    // The paired change the report's own statistics give on the 40 shared items (+1 item: eval-1).
    const first = new Map([...Array(HELD_OUT).keys()].map((i) => [`item-${i}`, rightIn(RUN, i)]));
    const second = new Map([...Array(HELD_OUT).keys()].map((i) => [`item-${i}`, rightIn(RUN_B, i)]));
    first.set('eval-1', true);
    second.set('eval-1', true);
    const expected = pairedDifference(pairOutcomes(first, second));
    const pts = (x: number) => `${x >= 0 ? '+' : '−'}${Math.abs(x * 100).toFixed(1)}`;
    const row = await page.textContent('table.paired-changes tbody tr');
    expect(row).toContain(`${pts(expected.difference)} [${pts(expected.low)}, ${pts(expected.high)}]`);
    expect(row).toContain(`p = ${expected.pValue.toFixed(3)}`);
    expect(row).toContain(String(expected.items));
    await shot('compare');
    expect(consoleErrors).toEqual([]);
  });

  it('flags a tampered run in the audit view and passes an intact one', async () => {
    await page.goto(`${api.url}/explorer/#/runs/${TAMPERED}/audit`);
    await page.waitForSelector('#audit-verdict');
    expect(await page.textContent('#audit-verdict')).toContain('AUDIT FAILED');
    expect(await page.textContent('#chain-status')).toContain('BROKEN at position 3');
    expect(await page.textContent('#chain-status')).toContain('payload-hash');
    await shot('audit-tampered');
    await page.goto(`${api.url}/explorer/#/runs/${RUN}/audit`);
    await page.waitForFunction(() =>
      document.querySelector('#audit-verdict')?.textContent?.includes('PASSED'),
    );
    const text = await page.textContent('#main');
    expect(text).toContain('intact: ');
    expect(text).toContain('Producers');
    expect(text).toContain('api test (jest)');
    expect(text).toContain(hex('sft'));
    // A viewer may look, not start a re-execution.
    await page.click('#verify-start');
    await page.waitForFunction(() =>
      document.querySelector('#verify-status')?.textContent?.includes('operator'),
    );
    consoleErrors.length = 0; // the refused start's 403
    await shot('audit');
  });

  it('starts replay --verify from the audit view with an operator token and shows its output', async () => {
    await page.click('nav button.link'); // sign out
    await page.fill('#token', operator);
    await page.click('form.login button[type=submit]');
    // Signed in, the page shows the view it was on: this run's audit.
    await page.waitForSelector('#verify-start');
    await page.click('#verify-start');
    // Running (or, on a fast machine, already finished when the page first asks).
    await page.waitForFunction(() =>
      /^(Running|Failed|Identical|DIVERGED)/.test(
        document.querySelector('#verify-status')?.textContent ?? '',
      ),
    );
    // The synthetic run has no trainable config: the re-execution fails, saying why, and the page shows it.
    // When it ends the audit page is drawn again (the outcome is now recorded on the run): read the finished
    // state from one snapshot of the page.
    const finished = await page.waitForFunction(
      () => {
        const status = document.querySelector('#verify-status')?.textContent ?? '';
        return /Failed|Identical|DIVERGED/.test(status)
          ? { status, output: document.querySelector('#verify-output')?.textContent ?? '' }
          : null;
      },
      undefined,
      { timeout: 90_000 },
    );
    const { status, output } = (await finished.jsonValue()) as { status: string; output: string };
    expect(status).toContain('Failed (exit 1');
    expect(output).toMatch(/config|run/);
    await shot('audit-verify');
    expect(consoleErrors).toEqual([]);
  }, 120_000);

  it('recon report --html writes the run page as one self-contained file that renders from disk under its CSP', async () => {
    const file = join(ARTIFACTS, `${RUN}.html`);
    const result = await runRecon(['report', RUN, '--html', file], {
      DATABASE_URL: databaseUrlOf(platform),
      RECON_BLOB_DIR: platform.blobDir,
    });
    expect(result).toMatchObject({ code: 0, stdout: `wrote ${file}\n` });
    const html = readFileSync(file, 'utf8');
    // Nothing loaded from anywhere: the bundle and styles are inline, allowed by hash only.
    expect(html).not.toMatch(/<script[^>]+src=|<link /);
    expect(html).toMatch(
      /http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'sha256-/,
    );
    expect(html).not.toContain('unsafe-inline');
    // The injected completion is data in the JSON block, never markup.
    expect(html).not.toContain('<script>window.__injected');
    const offline = await browser.newPage();
    const errors: string[] = [];
    offline.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    offline.on('pageerror', (e) => errors.push(e.message));
    const requests: string[] = [];
    offline.on('request', (r) => requests.push(r.url()));
    await offline.goto(`file://${file}`);
    await offline.waitForSelector('figure.chart canvas');
    await offline.waitForSelector('table.report');
    const titles = await offline.$$eval('.u-title', (nodes) => nodes.map((n) => n.textContent));
    expect(titles).toEqual(expect.arrayContaining(['SFT loss', 'GRPO reward (mean and per component)']));
    expect(await offline.textContent('#main')).toContain('Table 3 — recon-eval accuracy by stage');
    expect(await offline.$$('a[href$="/events"]')).toHaveLength(0);
    expect(requests).toEqual([`file://${file}`]);
    expect(errors).toEqual([]);
    await offline.screenshot({ path: join(ARTIFACTS, 'report-html.png') });
    await offline.close();
  });

  it('opens the run page of a ~6,000-event run (time to interactive printed, no threshold)', async () => {
    const started = Date.now();
    await page.goto(`${api.url}/explorer/#/runs/${BIG}`);
    await page.waitForSelector('figure.chart canvas');
    await page.waitForSelector('table.report');
    const interactiveMs = Date.now() - started;
    const inPage = await page.evaluate(() => document.getElementById('main')?.dataset.interactiveMs);
    const events = await page.textContent('p.meta');
    process.stdout.write(
      `explorer: ${BIG} (${/(\d+) events/.exec(events ?? '')?.[1]} events) run page interactive in ${interactiveMs} ms, page load included (fetch and render ${inPage} ms in the page)\n`,
    );
    expect(events).toMatch(/60\d\d events/);
    await shot('run-6k');
  });
});
