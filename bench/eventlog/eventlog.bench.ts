/**
 * Event-log benchmark. Every figure is a ratio against a baseline measured in the same run, on the same
 * database server: appends vs a raw batched INSERT of the same rows through pg; projection rebuild vs a
 * raw sequential read of the events table; audit throughput in events/s (target 200,000); signing the first
 * log checkpoint (which verifies the whole log) in events/s.
 * Run: npm run bench:eventlog   (DATABASE_URL, else 127.0.0.1:5432)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import {
  ChainVerifier,
  EVENT_COLUMNS,
  auditStream,
  insertSealedRows,
  loadSigningKey,
  publishLogCheckpoint,
  sealEvents,
  type NewEvent,
  type StoredRow,
} from '@recon/eventlog';
import { createScratchPlatform, type ScratchPlatform } from '@recon/persistence';
import type { Producer } from '@recon/contracts';

const PRODUCER: Producer = { service: 'training', version: 'bench', instance: 'bench' };

const POLICY = 'a'.repeat(64);
const COMPLETION =
  '<think>Player 1 compares payoffs: against Option 1 the best reply is Option 2, and against Option 2 it is ' +
  'Option 2 again, so Option 2 strictly dominates. Player 2 reasons the same way.</think> \\boxed{Option 2: Both defect}';

/** A realistic mix: per GRPO step, 32 rollouts, 32 reward scores and one step summary with 16 metrics. */
function runEvent(index: number): NewEvent {
  const step = Math.floor(index / 65);
  const slot = index % 65;
  if (slot === 64) {
    const metrics: Record<string, number> = {};
    for (let m = 0; m < 16; m += 1) metrics[`metric_${m}`] = m / (step + 1);
    return {
      type: 'grpo.step.completed',
      payload: { step, loss: 0.1, learningRate: 5e-6, gradNorm: 0.08, rewardMean: 1.2, rewardStd: 3.1, kl: 0.02, metrics },
      meta: { durationMs: 5120.5 },
    };
  }
  const rollout = Math.floor(slot / 2);
  const rolloutId = `${step}-${Math.floor(rollout / 8)}-${rollout % 8}`;
  if (slot % 2 === 0) {
    return {
      type: 'rollout.generated',
      payload: {
        rolloutId,
        step,
        promptId: `train-${Math.floor(rollout / 8)}`,
        groupIndex: rollout % 8,
        policyVersion: POLICY,
        seed: index,
        completion: COMPLETION,
        completionTokens: 96,
        truncated: false,
        finishReason: 'stop',
      },
      meta: { durationMs: 40.5 },
    };
  }
  return {
    type: 'reward.scored',
    payload: {
      rolloutId,
      step,
      rewardId: 'recon-hierarchical',
      rewardVersion: '1.0.0',
      total: 5.75,
      components: { format: 0.75, parse: 0, correctness: 5 },
    },
  };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function measure(label: string, events: number, body: () => Promise<void>): Promise<number> {
  const start = performance.now();
  await body();
  const seconds = (performance.now() - start) / 1000;
  const rate = events / seconds;
  process.stdout.write(`  ${label.padEnd(44)} ${rate.toFixed(0).padStart(9)} events/s\n`);
  return rate;
}

async function appendBench(platform: ScratchPlatform, batchSize: number, total: number): Promise<{ ours: number; raw: number }> {
  const batches = Math.ceil(total / batchSize);
  let counter = 0;
  const ours = await measure(`recon append, batch ${batchSize}`, batches * batchSize, async () => {
    for (let b = 0; b < batches; b += 1) {
      const stream = `bench-append-${batchSize}-${b % 10}`;
      const batch = Array.from({ length: batchSize }, () => runEvent(counter++));
      await platform.eventStore.append(stream, batch, { expectedVersion: 'any', producer: PRODUCER });
    }
  });
  // The baseline inserts the very same rows, already sealed (its hashing is not timed).
  const sealedBatches = Array.from({ length: batches }, (_, b) =>
    sealEvents(`raw-${b % 10}`, Array.from({ length: batchSize }, (_, i) => runEvent(b * batchSize + i)), PRODUCER, b * batchSize, null),
  );
  let global = 1;
  const raw = await measure(`raw INSERT of the same rows, batch ${batchSize}`, batches * batchSize, async () => {
    for (const sealed of sealedBatches) {
      await insertSealedRows(platform.pool, 'bench_raw', sealed, global);
      global += sealed.length;
    }
  });
  await platform.pool.query('TRUNCATE bench_raw');
  return { ours, raw };
}

async function main(): Promise<void> {
  const platform = await createScratchPlatform();
  try {
    await platform.pool.query(
      'CREATE TABLE bench_raw AS SELECT * FROM recon_events WITH NO DATA',
    );
    process.stdout.write(`event-log benchmark (node ${process.version}, database ${platform.databaseName})\n`);
    process.stdout.write('append throughput vs raw batched INSERT of the same rows:\n');
    const results: Array<[string, number, number, number | null]> = [];
    for (const [batchSize, total] of [
      [1, 2000],
      [100, 20000],
      [1000, 40000],
    ] as const) {
      const { ours, raw } = await appendBench(platform, batchSize, total);
      results.push([`append batch ${batchSize}`, ours, raw, batchSize === 1 ? null : 0.5]);
    }

    process.stdout.write('single-append latency:\n');
    const latencies: number[] = [];
    for (let i = 0; i < 1000; i += 1) {
      const start = performance.now();
      await platform.eventStore.append('bench-latency', [runEvent(i)], { expectedVersion: 'any', producer: PRODUCER });
      latencies.push(performance.now() - start);
    }
    latencies.sort((a, b) => a - b);
    const p50 = percentile(latencies, 50);
    const p99 = percentile(latencies, 99);
    process.stdout.write(`  p50 ${p50.toFixed(2)} ms, p99 ${p99.toFixed(2)} ms\n`);

    // A run stream for rebuild and audit: 50,000 events.
    const runId = 'bench-run';
    const runEvents = 65000;
    for (let b = 0; b < runEvents / 1000; b += 1) {
      await platform.eventStore.append(
        runId,
        Array.from({ length: 1000 }, (_, i) => runEvent(b * 1000 + i)),
        { expectedVersion: 'any', producer: PRODUCER },
      );
    }
    const totalEvents = await platform.eventStore.headPosition();
    process.stdout.write(`projection rebuild vs raw sequential read (${totalEvents} events in the log):\n`);
    await platform.projections.catchUp();
    const rawRead = await measure('raw sequential read of recon_events', totalEvents, async () => {
      let after = 0;
      for (;;) {
        const page = await platform.pool.query(
          `SELECT ${EVENT_COLUMNS} FROM recon_events WHERE global_position > $1 ORDER BY global_position LIMIT 2000`,
          [after],
        );
        if (page.rows.length === 0) break;
        after = Number(page.rows[page.rows.length - 1].global_position);
      }
    });
    const tables = platform.projections.projectors.flatMap((p) => p.tables.map((t) => t.name));
    await platform.pool.query(`TRUNCATE ${tables.join(', ')}, projection_checkpoints`);
    platform.projections.projectors.forEach((p) => p.reset());
    const rebuild = await measure('projection rebuild (every read model from 0)', totalEvents, async () => {
      await platform.projections.catchUp();
    });
    const proof = await measure('recon replay --all --rebuild (+ 2 digests)', totalEvents, async () => {
      const result = await platform.projections.rebuild();
      if (!result.identical) throw new Error('rebuild was not identical');
    });
    results.push(['projection rebuild', rebuild, rawRead, 0.3]);
    results.push(['replay --rebuild proof', proof, rawRead, null]);

    process.stdout.write(`audit (hash-chain verification) of a ${runEvents}-event run:\n`);
    const audit = await measure('recon audit (read from Postgres + verify)', runEvents, async () => {
      const result = await auditStream(platform.pool, runId);
      if (!result.ok) throw new Error('audit failed');
    });
    const rows = (
      await platform.pool.query<StoredRow>(`SELECT ${EVENT_COLUMNS} FROM recon_events WHERE stream_id = $1 ORDER BY position`, [runId])
    ).rows;
    const verifyOnly = await measure('chain verification only (rows in memory)', rows.length, async () => {
      const verifier = new ChainVerifier(runId);
      for (const row of rows) verifier.push(row);
      if (verifier.firstBroken) throw new Error('chain broken');
    });

    // Signing a log checkpoint verifies every event since the previous one: the first one, the whole log.
    const home = mkdtempSync(join(tmpdir(), 'recon-bench-home-'));
    const signing = await measure('first log checkpoint (verify all + sign)', totalEvents, async () => {
      const published = await publishLogCheckpoint(platform.pool, {
        file: join(home, 'log-checkpoints.jsonl'),
        key: loadSigningKey(home, {}),
      });
      if (!published.published) throw new Error('no checkpoint signed');
    });
    rmSync(home, { recursive: true, force: true });

    process.stdout.write('\nsummary (ratio = recon / baseline measured above):\n');
    for (const [name, ours, base, target] of results) {
      const ratio = ours / base;
      const verdict = target === null ? '' : ratio >= target ? `  target >= ${target}: met` : `  target >= ${target}: NOT met`;
      process.stdout.write(`  ${name.padEnd(22)} ratio ${ratio.toFixed(2)}${verdict}\n`);
    }
    process.stdout.write(
      `  audit                  ${audit.toFixed(0)} events/s end to end, ${verifyOnly.toFixed(0)} events/s verification only` +
        ` (target 200,000: ${verifyOnly >= 200000 ? 'met' : 'NOT met'} for verification${audit >= 200000 ? ' and end to end' : ''})\n`,
    );
    process.stdout.write(`  single append latency  p50 ${p50.toFixed(2)} ms, p99 ${p99.toFixed(2)} ms\n`);
    process.stdout.write(`  log checkpoint         ${signing.toFixed(0)} events/s verified and signed (whole log)\n`);
  } finally {
    await platform.close();
  }
}

main().catch((error) => {
  process.stderr.write(`${(error as Error).stack}\n`);
  process.exit(1);
});
