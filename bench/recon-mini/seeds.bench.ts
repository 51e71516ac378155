/**
 * bench/recon-mini: the default experiment end to end on several seeds, each a real `recon run recon-mini
 * --seed S` on the embedded deployment, one after another. Prints, per seed, the report's table 3 (both
 * graders, baselines, paired changes between stages), the GRPO reward line, the game tables' headline rows,
 * and the run's wall time and CPU share (from /usr/bin/time when present).
 * Usage: node dist/bench/recon-mini/seeds.bench.js [--seeds 42,1,2,3] [--out bench/results/recon-mini]
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Command } from 'commander';

interface SeedOutcome {
  seed: number;
  status: number | null;
  wallMinutes: number;
  cpuPercent: number | null;
  report: string | null;
}

const repoRoot = resolve(__dirname, '../../..');

/** A report section: from its `## <title…>` heading to the next `## ` heading. */
export function reportSection(report: string, title: string): string | null {
  const lines = report.split('\n');
  const start = lines.findIndex((line) => line.startsWith(`## ${title}`));
  if (start < 0) return null;
  const end = lines.findIndex((line, i) => i > start && line.startsWith('## '));
  return lines.slice(start, end < 0 ? undefined : end).join('\n').trim();
}

function runSeed(seed: number, outDir: string): SeedOutcome {
  const reportFile = join(outDir, `seed-${seed}.md`);
  const timeFile = join(outDir, `seed-${seed}.time`);
  const recon = [join(repoRoot, 'bin/recon'), 'run', 'recon-mini', '--seed', String(seed), '--run-id', `recon-mini-seed-${seed}-${Date.now().toString(36)}`, '--report', reportFile, '--no-progress'];
  const timed = existsSync('/usr/bin/time');
  const started = Date.now();
  const child = timed
    ? spawnSync('/usr/bin/time', ['-f', '%e %P', '-o', timeFile, process.execPath, ...recon], { cwd: repoRoot, stdio: ['ignore', 'ignore', 'inherit'] })
    : spawnSync(process.execPath, recon, { cwd: repoRoot, stdio: ['ignore', 'ignore', 'inherit'] });
  const wallMinutes = (Date.now() - started) / 60_000;
  const cpu = timed && existsSync(timeFile) ? /([\d.]+)%/.exec(readFileSync(timeFile, 'utf8')) : null;
  return {
    seed,
    status: child.status,
    wallMinutes,
    cpuPercent: cpu ? Number(cpu[1]) : null,
    report: existsSync(reportFile) ? readFileSync(reportFile, 'utf8') : null,
  };
}

function main(): void {
  const options = new Command()
    .option('--seeds <list>', 'comma-separated seeds', '42,1,2,3')
    .option('--out <dir>', 'where the reports go', 'bench/results/recon-mini')
    .parse()
    .opts<{ seeds: string; out: string }>();
  const seeds = options.seeds.split(',').map((s) => Number(s.trim()));
  if (seeds.some((s) => !Number.isSafeInteger(s) || s < 0)) {
    process.stderr.write(`--seeds: '${options.seeds}' is not a list of non-negative integers\n`);
    process.exit(2);
  }
  const outDir = resolve(repoRoot, options.out);
  mkdirSync(outDir, { recursive: true });
  let failed = 0;
  for (const seed of seeds) {
    const outcome = runSeed(seed, outDir);
    const cpu = outcome.cpuPercent === null ? 'CPU n/a' : `CPU ${outcome.cpuPercent}% (/usr/bin/time, 200% = both cores)`;
    console.log(`\n# seed ${seed}: exit ${outcome.status}, ${outcome.wallMinutes.toFixed(1)} min wall, ${cpu}\n`);
    if (outcome.status !== 0 || outcome.report === null) {
      failed++;
      console.log('(no report: the run failed; see its stderr above)');
      continue;
    }
    for (const title of ['Table 3', 'Training', 'Table 4', 'Table 5']) {
      const section = reportSection(outcome.report, title);
      if (section) console.log(`${section}\n`);
    }
  }
  process.exitCode = failed > 0 ? 1 : 0;
}

if (require.main === module) main();
