/**
 * bench/explorer: the run page's time to interactive in Chromium (Debian's, driven by playwright-core) for a
 * ~6,000-event run (the demo's synthetic path: 1,000 SFT steps, 1,000 GRPO steps of two rollouts), against
 * a baseline measured in the same run: fetching the page's data (`/runs/:id/view`) alone, without drawing.
 * "Interactive": the charts are drawn and the report tables are in the page (the browser test's criterion).
 * Usage: node dist/bench/explorer/explorer.bench.js [--rounds 5] [--sft 1000] [--grpo 1000]
 * (needs PostgreSQL: DATABASE_URL or 127.0.0.1:5432; `npm run build` first for the bundle)
 */
import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { Command } from 'commander';
import { chromium } from 'playwright-core';
import { MAX_EVENTS_PER_APPEND } from '@recon/eventlog';
import { createScratchPlatform } from '@recon/persistence';
import { createServiceApp, issueToken, PlatformModule } from '@recon/service-kit';
import { InProcessEventBus } from '@recon/transport';
import { syntheticRunEvents, TEST_PRODUCER } from '../../apps/cli/src/demo/synthetic-run';
import { ApiModule } from '../../services/api/src/http/api.module';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main(): Promise<void> {
  const options = new Command()
    .option('--rounds <n>', 'page loads measured (after one warm-up)', '5')
    .option('--sft <n>', 'SFT steps of the synthetic run', '1000')
    .option('--grpo <n>', 'GRPO steps of the synthetic run (5 events each)', '1000')
    .parse()
    .opts<{ rounds: string; sft: string; grpo: string }>();
  const platform = await createScratchPlatform();
  const bus = new InProcessEventBus(platform.eventStore, platform.pool);
  @Module({
    imports: [PlatformModule.forRoot(platform, bus), ApiModule.forRoot({ requestsPerMinute: 100_000 })],
  })
  class BenchApi {}
  const app = await createServiceApp(BenchApi, { logger: false });
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--no-sandbox'],
  });
  try {
    const runId = 'bench-explorer';
    const events = syntheticRunEvents(runId, {
      sftSteps: Number(options.sft),
      grpoSteps: Number(options.grpo),
    });
    // An append carries at most MAX_EVENTS_PER_APPEND events: a large run is recorded in consecutive batches.
    for (let from = 0; from < events.length; from += MAX_EVENTS_PER_APPEND)
      await platform.eventStore.append(runId, events.slice(from, from + MAX_EVENTS_PER_APPEND), {
        expectedVersion: from === 0 ? 'no-stream' : from,
        producer: TEST_PRODUCER,
      });
    const { token } = await issueToken(
      platform,
      { name: 'bench', role: 'viewer', expiresInMs: null, actor: 'bench' },
      TEST_PRODUCER,
    );
    await app.listen(0, '127.0.0.1');
    const base = (await app.getUrl()).replace('[::1]', '127.0.0.1');
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(`${base}/`);
    await page.fill('#token', token);
    await page.click('form.login button[type=submit]');
    await page.waitForSelector('tr[data-run]');
    const pageMs: number[] = [];
    const dataMs: number[] = [];
    for (let round = 0; round <= Number(options.rounds); round += 1) {
      await page.goto('about:blank');
      const started = Date.now();
      await page.goto(`${base}/explorer/#/runs/${runId}`);
      await page.waitForSelector('figure.chart canvas');
      await page.waitForSelector('table.report');
      const loaded = Date.now() - started;
      const fetched = await page.evaluate(
        async ([path, bearer]) => {
          const t = performance.now();
          await (await fetch(path, { headers: { Authorization: `Bearer ${bearer}` } })).json();
          return performance.now() - t;
        },
        [`/runs/${runId}/view`, token] as const,
      );
      if (round === 0) continue; // warm-up: JIT, caches
      pageMs.push(loaded);
      dataMs.push(fetched);
    }
    const p = median(pageMs);
    const d = median(dataMs);
    console.log(`run: ${events.length} events (${options.sft} SFT steps, ${options.grpo} GRPO steps)`);
    console.log(
      `run page interactive (page load, data, charts, tables), median of ${pageMs.length}: ${p} ms  [${pageMs.join(', ')}]`,
    );
    console.log(
      `baseline: /runs/:id/view fetched alone, median: ${d.toFixed(0)} ms  [${dataMs.map((x) => x.toFixed(0)).join(', ')}]`,
    );
    console.log(`ratio page / data alone: ${(p / d).toFixed(2)}x; target: interactive in < 1000 ms`);
  } finally {
    await browser.close();
    await app.close();
    await bus.close();
    await platform.close();
  }
}

main().catch((error: Error) => {
  console.error(`bench/explorer: ${error.message}`);
  process.exit(1);
});
