/**
 * bench/policy: training tokens/s (forward + backward + AdamW) and generation tokens/s (KV cache, batch 1
 * and 8) of libs/policy's transformer vs the same architecture in PyTorch (CPU, 2 threads) on this
 * machine, in one run, on each backend of --backends (default: wasm-openblas then plain wasm, in the same
 * process). On wasm-openblas generation runs twice, with the fused decoder (one addon call per decoding step)
 * and without it (the tfjs kernels; the same logits bit for bit), unless --decoders names one.
 * Usage: node dist/bench/policy/policy.bench.js [--backends wasm-openblas,wasm] [--sizes a,b]
 *   [--train-steps N] [--no-generation] [--no-training] [--decoders fused,unfused]
 */
import { execFileSync } from 'node:child_process';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { Command } from 'commander';
import {
  generate,
  selectBackend,
  setFusedDecoding,
  SftTrainer,
  TransformerPolicy,
  type BackendName,
} from '@recon/policy';

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

function ourGeneration(size: SizeName, batch: number, fused: boolean): number {
  setFusedDecoding(fused);
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
  setFusedDecoding(true);
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

interface OurResult {
  backend: string;
  size: SizeName;
  train?: number;
  generate: Record<string, number>;
  /** wasm-openblas: generation without the fused decoder (the tfjs kernels). */
  unfused?: Record<string, number>;
}

/** The better of two PyTorch runs (before and after ours), so load on the shared machine flatters no ratio. */
function bestOf(first: TorchResult, second: TorchResult): TorchResult {
  const sizes = Object.fromEntries(
    Object.entries(first.sizes).map(([name, a]) => {
      const b = second.sizes[name];
      const generate = Object.fromEntries(
        Object.entries(a.generateTokensPerSecond).map(([k, v]) => [
          k,
          Math.max(v, b.generateTokensPerSecond[k]),
        ]),
      );
      return [
        name,
        {
          trainTokensPerSecond: Math.max(a.trainTokensPerSecond, b.trainTokensPerSecond),
          generateTokensPerSecond: generate,
        },
      ];
    }),
  );
  return { threads: first.threads, matmulGflops: Math.max(first.matmulGflops, second.matmulGflops), sizes };
}

const ratio = (ours: number, base: number) =>
  `${ours.toFixed(0)} vs torch ${base.toFixed(0)} = ${(ours / base).toFixed(2)}x`;

async function main(): Promise<void> {
  const options = new Command()
    .option(
      '--backends <list>',
      'comma-separated, run in this order: wasm-openblas, wasm, cpu, auto',
      'wasm-openblas,wasm',
    )
    .option('--sizes <list>', 'comma-separated: a,b', 'a,b')
    .option('--train-steps <n>', 'timed training steps per size', '3')
    .option('--no-generation', 'training only')
    .option('--no-training', 'generation only')
    .option(
      '--decoders <list>',
      'wasm-openblas generation: fused (one addon call per step), unfused (tfjs kernels)',
      'fused,unfused',
    )
    .parse()
    .opts<{
      backends: string;
      sizes: string;
      trainSteps: string;
      generation: boolean;
      training: boolean;
      decoders: string;
    }>();
  const decoders = options.decoders.split(',');
  const sizes = options.sizes.split(',') as SizeName[];
  // --no-training: PyTorch still takes its warm-up step, and no timed ones.
  const steps = options.training ? Number(options.trainSteps) : 0;
  const batches = options.generation ? GEN.batches : [];
  const load = () => os.loadavg()[0].toFixed(1);
  const torchBefore = torchBaseline(sizes, steps);
  console.log(`PyTorch (before): ${torchBefore.matmulGflops.toFixed(0)} GFLOP/s, load ${load()}`);
  const ours: OurResult[] = [];
  const labels: { name: string; label: string }[] = [];
  for (const name of options.backends.split(',') as (BackendName | 'auto')[]) {
    let backend;
    try {
      backend = await selectBackend(name);
    } catch (error) {
      console.log(`backend ${name}: skipped (${(error as Error).message})`);
      continue;
    }
    labels.push({
      name: backend.name,
      label: `${backend.name}${backend.blas ? ` [${backend.blas}, ${backend.threads} threads]` : ''}${backend.simd !== undefined ? ` (simd ${backend.simd})` : ''}`,
    });
    const blas = backend.name === 'wasm-openblas';
    for (const size of sizes) {
      const train = options.training ? ourTraining(size, steps) : undefined;
      const measure = (fused: boolean) =>
        Object.fromEntries(batches.map((b) => [String(b), ourGeneration(size, b, fused)]));
      const generate = measure(!blas || decoders.includes('fused'));
      const unfused =
        blas && decoders.includes('fused') && decoders.includes('unfused') ? measure(false) : undefined;
      ours.push({ backend: backend.name, size, train, generate, unfused });
      console.log(`  measured ${backend.name} size (${size}), load ${load()}`);
    }
  }
  const torchAfter = torchBaseline(sizes, steps);
  console.log(`PyTorch (after): ${torchAfter.matmulGflops.toFixed(0)} GFLOP/s, load ${load()}`);
  const torch = bestOf(torchBefore, torchAfter);
  const torchNote = `PyTorch ${torch.threads} threads, 1024^3 matmul ${torch.matmulGflops.toFixed(0)} GFLOP/s (best of 2 runs)`;
  console.log(`\nratios against the better PyTorch run; ${torchNote}`);
  for (const { name, label } of labels) {
    console.log(`backend: ${label}`);
    for (const r of ours.filter((o) => o.backend === name)) {
      const ref = torch.sizes[r.size];
      if (r.train !== undefined)
        console.log(
          `  size (${r.size}) training tokens/s: ${ratio(r.train, ref.trainTokensPerSecond)}  [${torchNote}]`,
        );
      const decoder =
        r.backend !== 'wasm-openblas'
          ? ''
          : decoders.includes('fused')
            ? ', fused decoder'
            : ', tfjs kernels';
      for (const b of batches) {
        const key = String(b);
        const torchTokens = ref.generateTokensPerSecond[key];
        console.log(
          `  size (${r.size}) generation batch ${b} tokens/s${decoder}: ${ratio(r.generate[key], torchTokens)}`,
        );
        if (r.unfused)
          console.log(
            `  size (${r.size}) generation batch ${b} tokens/s, tfjs kernels: ${ratio(r.unfused[key], torchTokens)}; fused / tfjs kernels = ${(r.generate[key] / r.unfused[key]).toFixed(2)}x`,
          );
      }
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
