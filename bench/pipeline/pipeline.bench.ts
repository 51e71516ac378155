/**
 * bench/pipeline: wall time per GRPO step split into generation, reward, update and platform overhead
 * (event appends, transport hops, projections, checkpoint blobs) on the embedded deployment, measured from
 * the run's own events: each worker records its compute time in event meta, and the step's wall time is
 * the distance between consecutive `rollouts.requested` events. Target: overhead <= 5% of the step.
 * Usage: node dist/bench/pipeline/pipeline.bench.js [--steps 8]   (needs PostgreSQL: DATABASE_URL or 127.0.0.1:5432)
 */
import { Command } from 'commander';
import type { PayloadOf } from '@recon/contracts';
import type { RecordedEvent } from '@recon/eventlog';
import { parseExperimentConfig, requestRun } from '@recon/experiment';
import { createScratchPlatform } from '@recon/persistence';
import { InProcessEventBus } from '@recon/transport';
import { startEmbeddedServices } from '../../apps/cli/src/run/embedded-services';
import { watchRun } from '../../apps/cli/src/run/watch-run';

const config = (steps: number) => `
name: bench-pipeline
seed: 3
datasets:
  curriculum: { trainItems: 500, testItems: 20 }
policy: { kind: builtin, dModel: 64, nLayers: 2, nHeads: 4, contextLength: 192, backend: auto }
tokenizer: { vocabSize: 512 }
sft: { steps: 40, batchSize: 16, learningRate: 0.002, schedule: cosine, warmupSteps: 5 }
grpo: { steps: ${steps}, promptsPerStep: 4, numGenerations: 8, learningRate: 0.0002, beta: 0.04, maxCompletionTokens: 80, maxGradNorm: 1.0 }
evaluation: { stages: [grpo], maxNewTokens: 16, heldOut: { items: 20 } }
`;

const ms = (a: RecordedEvent, b: RecordedEvent) => Date.parse(b.occurredAt) - Date.parse(a.occurredAt);

async function main(): Promise<void> {
  const { steps } = new Command().option('--steps <n>', 'GRPO steps', '8').parse().opts<{ steps: string }>();
  const experiment = parseExperimentConfig(config(Number(steps)), 'bench');
  const platform = await createScratchPlatform();
  let failure: Error | null = null;
  const bus = new InProcessEventBus(platform.eventStore, platform.pool, {
    pollMs: 20,
    onError: (e) => (failure = e),
  });
  const services = await startEmbeddedServices(platform, bus);
  try {
    await requestRun(platform.eventStore, 'bench', experiment, {
      requestedBy: 'bench',
      codeVersion: 'bench',
      producer: { service: 'api', version: 'bench', instance: 'bench' },
    });
    const outcome = await watchRun(platform.eventStore, 'bench', experiment, {
      signal: new AbortController().signal,
      progress: false,
      failure: () => failure,
      pollMs: 200,
    });
    if (outcome.status === 'failed') throw new Error(`run failed in ${outcome.phase}: ${outcome.error}`);
    const events = await platform.eventStore.readStream('bench');
    const requests = events.filter((e) => e.type === 'rollouts.requested');
    const rows: string[] = [];
    const totals = { wall: 0, generation: 0, reward: 0, update: 0 };
    for (const request of requests) {
      const step = (request.payload as PayloadOf<'rollouts.requested'>).step;
      const ofStep = (type: string) =>
        events.filter((e) => e.type === type && (e.payload as { step: number }).step === step);
      const done = ofStep('grpo.step.completed')[0];
      if (!done) continue;
      const wall = ms(request, done);
      const generation = Number(ofStep('rollout.generated')[0]?.meta.generationMs ?? 0);
      const reward = ofStep('reward.scored').reduce((n, e) => n + Number(e.meta.durationMs ?? 0), 0);
      const update = Number(done.meta.stepTimeMs ?? 0);
      const overhead = wall - generation - reward - update;
      Object.assign(totals, {
        wall: totals.wall + wall,
        generation: totals.generation + generation,
        reward: totals.reward + reward,
        update: totals.update + update,
      });
      rows.push(
        `step ${String(step).padStart(2)}: wall ${wall.toFixed(0).padStart(6)} ms = generation ${generation.toFixed(0).padStart(5)} + reward ${reward.toFixed(1).padStart(6)} + update ${update.toFixed(0).padStart(5)} + overhead ${overhead.toFixed(0).padStart(5)} ms (${((overhead / wall) * 100).toFixed(1)}%)`,
      );
    }
    console.log(rows.join('\n'));
    const overhead = totals.wall - totals.generation - totals.reward - totals.update;
    console.log(
      `all steps: generation ${((totals.generation / totals.wall) * 100).toFixed(1)}%, reward ${((totals.reward / totals.wall) * 100).toFixed(2)}%, update ${((totals.update / totals.wall) * 100).toFixed(1)}%, platform overhead ${((overhead / totals.wall) * 100).toFixed(1)}% of ${(totals.wall / rows.length).toFixed(0)} ms per step (target <= 5%)`,
    );
  } finally {
    await services.close();
    await bus.close();
    await platform.close();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
