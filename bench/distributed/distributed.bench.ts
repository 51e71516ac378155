/**
 * bench/distributed: one GRPO config run three ways in one go, on one scratch database and one local Kafka
 * broker: (a) embedded (one process, in-process bus), (b) `recon up` (every service its own process over
 * Kafka), (c) `recon up --scale rollout=2,reward=2` with the step's rollouts in two shards. Per GRPO step it
 * measures wall time (rollouts.requested -> grpo.step.completed) and the compute recorded in event meta
 * (generation: the longest shard; reward; update); overhead is the rest. Prints the ratios (b)/(a), (c)/(b)
 * and each deployment's overhead share (issue target for distributed: <= 10% of the step).
 * Usage: node dist/bench/distributed/distributed.bench.js [--steps 6]   (PostgreSQL: DATABASE_URL or 127.0.0.1:5432)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Command } from 'commander';
import type { PayloadOf } from '@recon/contracts';
import type { RecordedEvent } from '@recon/eventlog';
import { parseExperimentConfig, requestRun, type ExperimentConfig } from '@recon/experiment';
import { createScratchPlatform, type ScratchPlatform } from '@recon/persistence';
import { InProcessEventBus } from '@recon/transport';
import { acquireLocalBroker } from '../../scripts/kafka/local-broker';
import { startEmbeddedServices } from '../../apps/cli/src/run/embedded-services';
import { watchRun } from '../../apps/cli/src/run/watch-run';

const BIN = resolve(__dirname, '../../../bin/recon');

const config = (steps: number, shards: number) => `
name: bench-distributed
seed: 3
datasets:
  curriculum: { trainItems: 500, testItems: 20 }
policy: { kind: builtin, dModel: 64, nLayers: 2, nHeads: 4, contextLength: 192, backend: wasm }
tokenizer: { vocabSize: 512 }
sft: { steps: 20, batchSize: 16, learningRate: 0.002 }
grpo: { steps: ${steps}, promptsPerStep: 4, numGenerations: 8, rolloutShards: ${shards}, learningRate: 0.0002, beta: 0.04, maxCompletionTokens: 80, maxGradNorm: 1.0 }
evaluation: { stages: [grpo], maxNewTokens: 8, heldOut: { items: 4 } }
`;

interface StepTimes {
  wall: number;
  generation: number;
  reward: number;
  update: number;
  /** Where the rest went, from the events' own times (see hops). */
  hops: Hops;
}

/**
 * A step's platform time by hop, from the sealing times of its events (ms, one clock: every process runs
 * here): request -> the last shard's generation starts (bus hop, run state, checkpoint read); the last
 * rollout append -> the first score (bus hop, reward's reads); first -> last score (the scores' appends,
 * one per key batch); the last score -> the step's completion less the update (bus hop, the step's read,
 * checkpoint save, append).
 */
interface Hops {
  toRollout: number;
  toReward: number;
  scoring: number;
  toTraining: number;
}

const ms = (a: RecordedEvent, b: RecordedEvent) => Date.parse(b.occurredAt) - Date.parse(a.occurredAt);

/** Per-step times of a finished run, from its events (step 1 is left out: it includes warm-up). */
function stepTimes(events: RecordedEvent[]): StepTimes[] {
  const times: StepTimes[] = [];
  for (const request of events.filter((e) => e.type === 'rollouts.requested')) {
    const step = (request.payload as PayloadOf<'rollouts.requested'>).step;
    if (step === 1) continue;
    const ofStep = (type: string) =>
      events.filter((e) => e.type === type && (e.payload as { step: number }).step === step);
    const done = ofStep('grpo.step.completed')[0];
    if (!done) continue;
    // Shards generate in parallel: the step waits for the longest one.
    const rollouts = ofStep('rollout.generated');
    const byShard = new Map<number, number>();
    for (const r of rollouts) byShard.set(Number(r.meta.shard ?? 0), Number(r.meta.generationMs ?? 0));
    const scores = ofStep('reward.scored');
    const at = (e: RecordedEvent) => Date.parse(e.occurredAt);
    const generationStarts = rollouts.map((r) => at(r) - Number(r.meta.generationMs ?? 0));
    const lastRollout = Math.max(...rollouts.map(at));
    const [firstScore, lastScore] = [Math.min(...scores.map(at)), Math.max(...scores.map(at))];
    const update = Number(done.meta.stepTimeMs ?? 0);
    times.push({
      wall: ms(request, done),
      generation: Math.max(0, ...byShard.values()),
      reward: scores.reduce((n, e) => n + Number(e.meta.durationMs ?? 0), 0),
      update,
      hops: {
        toRollout: Math.max(...generationStarts) - at(request),
        toReward: firstScore - lastRollout,
        scoring: lastScore - firstScore,
        toTraining: at(done) - lastScore - update,
      },
    });
  }
  return times;
}

function request(platform: ScratchPlatform, runId: string, experiment: ExperimentConfig) {
  return requestRun(platform.eventStore, runId, experiment, {
    requestedBy: 'bench',
    codeVersion: 'bench',
    producer: { service: 'api', version: 'bench', instance: 'bench' },
  });
}

async function follow(
  platform: ScratchPlatform,
  runId: string,
  experiment: ExperimentConfig,
  failure: () => Error | null = () => null,
) {
  const outcome = await watchRun(platform.eventStore, runId, experiment, {
    signal: new AbortController().signal,
    progress: false,
    failure,
    pollMs: 200,
  });
  if (outcome.status === 'failed') throw new Error(`${runId} failed in ${outcome.phase}: ${outcome.error}`);
  return stepTimes(await platform.eventStore.readStream(runId));
}

async function embedded(platform: ScratchPlatform, experiment: ExperimentConfig): Promise<StepTimes[]> {
  let failure: Error | null = null;
  const bus = new InProcessEventBus(platform.eventStore, platform.pool, {
    pollMs: 20,
    onError: (e) => (failure = e),
  });
  const services = await startEmbeddedServices(platform, bus, { backend: 'wasm' });
  try {
    await request(platform, 'embedded', experiment);
    return await follow(platform, 'embedded', experiment, () => failure);
  } finally {
    await services.close();
    await bus.close();
  }
}

async function distributed(
  platform: ScratchPlatform,
  brokers: string[],
  runId: string,
  experiment: ExperimentConfig,
  scale: string,
): Promise<StepTimes[]> {
  const up: ChildProcess = spawn(process.execPath, [BIN, 'up', '--scale', scale, '--base-port', '0'], {
    env: {
      ...process.env,
      DATABASE_URL: platform.databaseUrl,
      KAFKA_BROKERS: brokers.join(','),
      RECON_KAFKA_NAMESPACE: `bench-${randomBytes(4).toString('hex')}`,
      RECON_HOME: mkdtempSync(join(tmpdir(), 'recon-bench-up-')),
      // One blob store for the whole deployment, as in production: the embedded run stored the datasets.
      RECON_BLOB_DIR: platform.blobDir,
      RECON_BACKEND: 'wasm',
    },
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  try {
    await new Promise<void>((ready, fail) => {
      let out = '';
      up.stdout!.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        if (out.includes('ready:')) ready();
      });
      up.once('exit', (code) => fail(new Error(`recon up exited (${code}) before it was ready`)));
    });
    await request(platform, runId, experiment);
    return await follow(platform, runId, experiment);
  } finally {
    up.kill('SIGTERM');
    await new Promise((r) => (up.exitCode !== null ? r(null) : up.once('exit', r)));
  }
}

function summary(name: string, times: StepTimes[]): { name: string; wall: number; overhead: number } {
  const sum = (key: Exclude<keyof StepTimes, 'hops'>) => times.reduce((n, t) => n + t[key], 0);
  const hop = (key: keyof Hops) =>
    (times.reduce((n, t) => n + t.hops[key], 0) / times.length).toFixed(0).padStart(4);
  const wall = sum('wall') / times.length;
  const overhead = (sum('wall') - sum('generation') - sum('reward') - sum('update')) / times.length;
  console.log(
    `${name.padEnd(34)} ${wall.toFixed(0).padStart(6)} ms/step = generation ${(sum('generation') / times.length).toFixed(0).padStart(5)} + reward ${(sum('reward') / times.length).toFixed(1).padStart(5)} + update ${(sum('update') / times.length).toFixed(0).padStart(5)} + overhead ${overhead.toFixed(0).padStart(5)} (${((overhead / wall) * 100).toFixed(1)}%)  [${times.length} steps]\n` +
      `${''.padEnd(34)} hops: request->generation ${hop('toRollout')} | rollouts->first score ${hop('toReward')} | scores ${hop('scoring')} | last score->step done (less update) ${hop('toTraining')}`,
  );
  return { name, wall, overhead };
}

async function main(): Promise<void> {
  const { steps, only } = new Command()
    .option('--steps <n>', 'GRPO steps per deployment', '6')
    .option('--only <list>', 'deployments to run, of a,b,c (ratios need those they compare)', 'a,b,c')
    .parse()
    .opts<{ steps: string; only: string }>();
  const runs = new Set(only.split(',').map((d) => d.trim()));
  const broker = await acquireLocalBroker();
  const platform = await createScratchPlatform();
  try {
    const one = parseExperimentConfig(config(Number(steps), 1), 'bench');
    const two = parseExperimentConfig(config(Number(steps), 2), 'bench');
    // The embedded run also stores the datasets the others read (one blob directory): it always runs.
    const a = summary('(a) embedded, 1 process', await embedded(platform, one));
    const b = runs.has('b')
      ? summary(
          '(b) recon up, over Kafka',
          await distributed(platform, broker.brokers, 'distributed', one, 'rollout=1'),
        )
      : null;
    const c = runs.has('c')
      ? summary(
          '(c) recon up, 2 rollout + 2 reward',
          await distributed(platform, broker.brokers, 'scaled', two, 'rollout=2,reward=2'),
        )
      : null;
    if (b)
      console.log(
        `ratio: step time (b)/(a) ${(b.wall / a.wall).toFixed(2)}x; distributed overhead ${((b.overhead / b.wall) * 100).toFixed(1)}% of the step (target <= 10%)`,
      );
    if (!b || !c) return;
    console.log(
      `ratio: step time (c)/(b) ${(c.wall / b.wall).toFixed(2)}x (throughput x${(b.wall / c.wall).toFixed(2)} with two workers)`,
    );
  } finally {
    await platform.close();
    await broker.release();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
