import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { NewEvent } from '@recon/eventlog';
import { issueToken } from '@recon/service-kit';
import { createTestPlatform, type TestPlatform } from '../support/platform';
import { RECON_BIN } from '../support/recon-cli';
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

/** A small recorded run: the demo's synthetic run with datasets, and one completion that tries to inject markup. */
function recordedRun(): NewEvent[] {
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
  return events;
}

/** `recon api` on a free port against the test's database; resolves with its URL once it listens. */
function startApi(platform: TestPlatform): Promise<{ process: ChildProcess; url: string }> {
  const databaseUrl = new URL(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres');
  databaseUrl.pathname = `/${platform.databaseName}`;
  const child = spawn(process.execPath, [RECON_BIN, 'api', '--port', '0'], {
    env: { ...process.env, DATABASE_URL: databaseUrl.toString(), RECON_BLOB_DIR: platform.blobDir },
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
  const consoleErrors: string[] = [];

  beforeAll(async () => {
    if (!existsSync(resolve(__dirname, '../../dist/explorer/app.js')))
      throw new Error('the explorer is not built: run `npm run build` (npm test does)');
    if (!existsSync(CHROMIUM))
      throw new Error(`no Chromium at ${CHROMIUM}: apt-get install chromium (scripts/setup.sh does)`);
    mkdirSync(ARTIFACTS, { recursive: true });
    platform = await createTestPlatform();
    await platform.eventStore.append(RUN, recordedRun(), {
      expectedVersion: 'no-stream',
      producer: TEST_PRODUCER,
    });
    viewer = (
      await issueToken(
        platform,
        { name: 'browser', role: 'viewer', expiresInMs: null, actor: 'test' },
        TEST_PRODUCER,
      )
    ).token;
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
    // A run requested now shows up, running, without a reload: the page is told over the event stream.
    const [requested0] = syntheticRunEvents('explorer-live');
    await platform.eventStore.append('explorer-live', [requested0], {
      expectedVersion: 'no-stream',
      producer: TEST_PRODUCER,
    });
    await page.waitForSelector('tr[data-run="explorer-live"] .status.requested');
    expect(await page.textContent('tr[data-run="explorer-live"]')).toContain('running');
    await shot('runs');
    expect(requested.some((url) => url.includes(viewer))).toBe(false);
    expect(page.url()).not.toContain(viewer);
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
    await shot('grpo-group');
    expect(consoleErrors).toEqual([]);
  });
});
