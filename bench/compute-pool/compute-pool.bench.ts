/**
 * bench/compute-pool: the policy compute pool (libs/policy-runtime/src/compute-pool) on recon-mini's model
 * (d64, 2 layers, 4 heads, context 256, vocab 512): SFT steps/s (batch 16, as recon-mini) and generation
 * tokens/s (32 prompts, up to 80 new tokens, as a GRPO step's rollouts) in this thread (the code before the
 * pool) and on pools of 1 and 2 workers, in one run, with the main event loop's lag p99 during each
 * (perf_hooks.monitorEventLoopDelay). Usage: node dist/bench/compute-pool/compute-pool.bench.js
 * [--backend wasm-openblas] [--steps 30] [--workers 1,2]
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Command } from 'commander';
import {
  generate,
  selectBackend,
  SftTrainer,
  trainTokenizer,
  TransformerPolicy,
  type BackendName,
  type SftTrainerConfigInput,
  type TokenSequence,
} from '@recon/policy';
import { ComputePool, DataParallelSft, generateOnPool, weightArrays } from '@recon/policy-runtime';

const MODEL = { vocabSize: 512, dModel: 64, layers: 2, heads: 4, context: 256, tieEmbeddings: true, seed: 1 };
const TRAINER: SftTrainerConfigInput = {
  batchSize: 16,
  maxGradNorm: 1,
  padId: 0,
  maxLength: 256,
  seed: 2,
  schedule: { type: 'cosine', learningRate: 0.002, totalSteps: 1000, warmupSteps: 20 },
  optimizer: { weightDecay: 0.01 },
};
const PROMPTS = 32;
const NEW_TOKENS = 80;

/** Sequences of 100-220 tokens, completion the last 30-60 (recon-mini's compact traces are about that). */
function sequences(count: number): TokenSequence[] {
  let x = 12345;
  const next = () => (x = (x * 1103515245 + 12345) % 2147483648);
  return Array.from({ length: count }, () => {
    const length = 100 + (next() % 121);
    const tokens = Array.from({ length }, () => 1 + (next() % 511));
    return { tokens, completionStart: length - 30 - (next() % 31) };
  });
}

interface Measure {
  label: string;
  rate: number;
  unit: string;
  lagP99Ms: number;
  lagMaxMs: number;
}

/** Runs `work` while sampling the event loop's delay; a 10 ms timer keeps the loop busy with something to answer. */
async function measured(label: string, unit: string, work: () => Promise<number>): Promise<Measure> {
  const lag = monitorEventLoopDelay({ resolution: 10 });
  const timer = setInterval(() => undefined, 10);
  lag.enable();
  // The histogram counts a delay once its timer has run: let it run before the work may block the loop.
  await new Promise((done) => setTimeout(done, 30));
  const started = performance.now();
  const count = await work();
  const seconds = (performance.now() - started) / 1000;
  // Let the lag timer fire once more, so a loop blocked until the end is counted.
  await new Promise((done) => setTimeout(done, 30));
  lag.disable();
  clearInterval(timer);
  return { label, rate: count / seconds, unit, lagP99Ms: lag.percentile(99) / 1e6, lagMaxMs: lag.max / 1e6 };
}

/** Lets timers run between synchronous steps, as the services' loop did before the pool. */
const yieldLoop = () => new Promise((done) => setImmediate(done));

async function main(): Promise<void> {
  const options = new Command()
    .option('--backend <name>', 'backend', 'auto')
    .option('--steps <n>', 'SFT steps per measurement', '30')
    .option('--workers <list>', 'pool sizes', '1,2')
    .parse(process.argv)
    .opts<{ backend: string; steps: string; workers: string }>();
  const backend = await selectBackend(options.backend as BackendName | 'auto');
  const steps = Number(options.steps);
  const data = sequences(400);
  const tokenizer = trainTokenizer({
    corpus: ['the player chooses a strategy to maximise payoff'],
    vocabSize: 300,
  });
  const model = new TransformerPolicy({ ...MODEL, vocabSize: tokenizer.vocabSize });
  const prompts = sequences(PROMPTS).map((s) => s.tokens.slice(0, 60).map((t) => t % tokenizer.vocabSize));
  const requests = prompts.map((promptIds, seed) => ({ promptIds, seed }));
  const sampling = { temperature: 1, maxTokens: NEW_TOKENS, stopTokenIds: [] };
  const results: Measure[] = [];
  const cpu = process.cpuUsage();
  const wall = performance.now();

  // Before the pool: everything on the main thread.
  {
    const local = new TransformerPolicy(MODEL);
    const trainer = new SftTrainer(local, data, TRAINER);
    trainer.trainStep(2); // warm-up (kernels, heap)
    results.push(
      await measured('main thread (no pool)', 'SFT steps/s', async () => {
        for (let i = 0; i < steps; i++) {
          trainer.trainStep(2);
          await yieldLoop();
        }
        return steps;
      }),
    );
    trainer.dispose();
    local.dispose();
    results.push(
      await measured('main thread (no pool)', 'generated tokens/s', async () => {
        const out = generate(model, tokenizer, requests, sampling);
        await yieldLoop();
        return out.reduce((n, c) => n + c.tokens.length, 0);
      }),
    );
  }

  for (const workers of options.workers.split(',').map(Number)) {
    const pool = await ComputePool.start({
      workers,
      backend: backend.name,
      // As policyComputePool: one OpenBLAS thread per worker.
      requirement: backend.name === 'wasm-openblas' ? { blas: backend.blas, threads: 1 } : {},
    });
    const local = new TransformerPolicy(MODEL);
    const sft = await DataParallelSft.open(pool, local, data, TRAINER);
    await sft.step(); // warm-up
    results.push(
      await measured(`pool of ${workers}`, 'SFT steps/s', async () => {
        for (let i = 0; i < steps; i++) await sft.step();
        return steps;
      }),
    );
    await sft.close();
    local.dispose();
    const policy = {
      key: 'bench',
      content: () => ({ model: model.config, weights: weightArrays(model), tokenizer: tokenizer.toJSON() }),
    };
    await generateOnPool(pool, policy, requests.slice(0, 2), { ...sampling, maxTokens: 4 }); // warm-up
    results.push(
      await measured(`pool of ${workers}`, 'generated tokens/s', async () => {
        const out = await generateOnPool(pool, policy, requests, sampling);
        return out.reduce((n, c) => n + c.tokens.length, 0);
      }),
    );
    await pool.close();
  }
  model.dispose();
  const used = process.cpuUsage(cpu);
  const share = (used.user + used.system) / 1000 / (performance.now() - wall);

  console.log(
    `backend ${backend.name}${backend.blas ? ` (${backend.blas}; main thread ${backend.threads} BLAS threads, workers 1)` : ''}; ` +
      `SFT: batch 16, ${steps} steps; generation: ${PROMPTS} prompts x ${NEW_TOKENS} tokens`,
  );
  // Other jobs on the machine cap what any measurement here can reach.
  console.log(`this process got ${(share * 100).toFixed(0)}% CPU on average (200% = both cores)`);
  console.log('| where | measure | rate | event-loop lag p99 (ms) | max (ms) |');
  console.log('| --- | --- | ---: | ---: | ---: |');
  for (const r of results)
    console.log(
      `| ${r.label} | ${r.unit} | ${r.rate.toFixed(1)} | ${r.lagP99Ms.toFixed(1)} | ${r.lagMaxMs.toFixed(1)} |`,
    );
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
