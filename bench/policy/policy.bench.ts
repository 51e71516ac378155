/**
 * bench/policy: training tokens/s (forward + backward + AdamW) and generation tokens/s (KV cache, batch 1
 * and 8) of libs/policy's transformer vs the same architecture in PyTorch (CPU, 2 threads) on this
 * machine, in one run. Usage: node dist/bench/policy/policy.bench.js [--backend wasm|cpu|auto] [--sizes a,b]
 */
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { Command } from 'commander';
import { generate, selectBackend, SftTrainer, TransformerPolicy, type BackendName } from '@recon/policy';

const SIZES = {
  a: { vocab: 512, d: 128, layers: 4, heads: 4, context: 256, batch: 16 },
  b: { vocab: 2048, d: 256, layers: 6, heads: 8, context: 256, batch: 8 },
} as const;
type SizeName = keyof typeof SIZES;
const GEN = { prompt: 32, tokens: 96, batches: [1, 8] };

function ourTraining(size: SizeName, steps: number): number {
  const s = SIZES[size];
  const model = new TransformerPolicy({
    vocabSize: s.vocab,
    dModel: s.d,
    layers: s.layers,
    heads: s.heads,
    context: s.context,
    seed: 1,
  });
  let x = 12345;
  const sequences = Array.from({ length: s.batch * (steps + 1) }, () => ({
    tokens: Array.from(
      { length: s.context + 1 },
      () => (x = (x * 1103515245 + 12345) % 2147483648) % s.vocab,
    ),
    completionStart: 1,
  }));
  const trainer = new SftTrainer(model, sequences, {
    batchSize: s.batch,
    padId: 0,
    seed: 1,
    schedule: { type: 'linear', learningRate: 1e-4, totalSteps: steps + 1 },
  });
  trainer.trainStep();
  const start = performance.now();
  for (let i = 0; i < steps; i++) trainer.trainStep();
  const seconds = (performance.now() - start) / 1000;
  trainer.dispose();
  model.dispose();
  return (steps * s.batch * s.context) / seconds;
}

function ourGeneration(size: SizeName, batch: number): number {
  const s = SIZES[size];
  const model = new TransformerPolicy({
    vocabSize: s.vocab,
    dModel: s.d,
    layers: s.layers,
    heads: s.heads,
    context: s.context,
    seed: 1,
  });
  const decoder = { decode: (ids: readonly number[]) => ids.join(' ') };
  const requests = Array.from({ length: batch }, (_, b) => ({
    promptIds: Array.from({ length: GEN.prompt }, (_, i) => (i * 7 + b) % s.vocab),
    seed: b,
  }));
  const run = () => generate(model, decoder, requests, { temperature: 0, maxTokens: GEN.tokens });
  run();
  const start = performance.now();
  const out = run();
  const seconds = (performance.now() - start) / 1000;
  model.dispose();
  return out.reduce((n, c) => n + c.tokens.length, 0) / seconds;
}

interface TorchResult {
  threads: number;
  matmulGflops: number;
  sizes: Record<string, { trainTokensPerSecond: number; generateTokensPerSecond: Record<string, number> }>;
}

function torchBaseline(sizes: SizeName[], trainSteps: number): TorchResult {
  const script = path.resolve(__dirname, '../../../bench/policy/torch_baseline.py');
  const args = {
    threads: 2,
    trainSteps,
    genPrompt: GEN.prompt,
    genTokens: GEN.tokens,
    genBatches: GEN.batches,
    sizes: Object.fromEntries(sizes.map((n) => [n, SIZES[n]])),
  };
  const out = execFileSync('/usr/bin/python3', [script, JSON.stringify(args)], { encoding: 'utf8' });
  return JSON.parse(out.trim().split('\n').pop()!) as TorchResult;
}

async function main(): Promise<void> {
  const options = new Command()
    .option('--backend <name>', 'wasm | cpu | auto', 'wasm')
    .option('--sizes <list>', 'comma-separated: a,b', 'a,b')
    .option('--train-steps <n>', 'timed training steps per size', '3')
    .parse()
    .opts<{ backend: string; sizes: string; trainSteps: string }>();
  const sizes = options.sizes.split(',') as SizeName[];
  const steps = Number(options.trainSteps);
  const backend = await selectBackend(options.backend as BackendName | 'auto');
  console.log(
    `backend: ${backend.name}${backend.simd !== undefined ? ` (simd ${backend.simd}, threads ${backend.threads})` : ''}`,
  );
  const torch = torchBaseline(sizes, steps);
  console.log(`PyTorch: ${torch.threads} threads, 1024^3 matmul ${torch.matmulGflops.toFixed(0)} GFLOP/s`);
  for (const size of sizes) {
    const ref = torch.sizes[size];
    const train = ourTraining(size, steps);
    console.log(
      `size (${size}) training tokens/s: recon ${train.toFixed(0)} vs torch ${ref.trainTokensPerSecond.toFixed(0)} = ${(train / ref.trainTokensPerSecond).toFixed(2)}x`,
    );
    for (const batch of GEN.batches) {
      const gen = ourGeneration(size, batch);
      const base = ref.generateTokensPerSecond[String(batch)];
      console.log(
        `size (${size}) generation batch ${batch} tokens/s: recon ${gen.toFixed(0)} vs torch ${base.toFixed(0)} = ${(gen / base).toFixed(2)}x`,
      );
    }
  }
  console.log(
    `peak RSS: ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB; tfjs tensors alive: ${tf.memory().numTensors}`,
  );
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
