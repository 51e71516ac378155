/**
 * bench/pretrained (issue 23): forward, KV-cache generation and LoRA training tokens/s of libs/pretrained's
 * PretrainedCausalLM on a random ~100M-parameter Llama checkpoint (generated once, cached by its settings)
 * against a self-contained PyTorch Llama reading the same safetensors file (torch_llama.py: CPU, float32,
 * eager), with the same token ids, in one run; peak memory of each side, and the memory formula
 * (lora-memory.ts) beside the measured peaks. PyTorch runs before ours (2 threads) and after (1 thread;
 * then 1 for its own ops with 2 for OpenBLAS); every ratio is against its best figure. First, on a tiny checkpoint and on the bench one, our logits are
 * compared with PyTorch's, so both sides compute the same thing.
 * Usage: node dist/bench/pretrained/pretrained.bench.js [--backends wasm-openblas,wasm] [--quick]
 *   [--train-steps N] [--blas-threads N] [--torch-threads 2,1,1/2] [--cache-dir DIR] [--no-generation]
 *   [--no-training]
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { Command } from 'commander';
import { type BackendInfo, type BackendName, selectBackend } from '@recon/policy';
import { loadPretrained } from '@recon/pretrained';
import { BENCH_MODEL, type DecoderShape, PARITY_MODEL, parameterCount } from './decoder-shape';
import { backendFamily, generationMemory, trainingMemory } from './lora-memory';
import { measureOurs, type OurResult, type Workload } from './ours';
import { checkpointDir, type CheckpointSettings, isComplete } from './random-checkpoint';
import { readFloats, torchBench, type TorchBenchResult, torchLogits } from './torch-side';

const CONTEXT = 2048;
const LORA = { rank: 8, alpha: 16, targets: ['q_proj', 'k_proj', 'v_proj', 'o_proj'] as const };
/** Largest difference of logits between the two sides that still counts as the same computation. */
const LOGITS_TOLERANCE = 1e-3;

interface Sizes {
  forward: { rows: number; length: number; repeats: number };
  generate: { prompt: number; tokens: number; batches: number[] };
  train: { rows: number; length: number; steps: number };
}

const FULL: Sizes = {
  forward: { rows: 4, length: 256, repeats: 2 },
  generate: { prompt: 32, tokens: 64, batches: [1, 8] },
  // 2 x 256 tokens: about 2.5 GB of the 4 GB wasm heap (lora-memory.ts); 4 x 256 does not fit.
  train: { rows: 2, length: 256, steps: 3 },
};
const QUICK: Sizes = {
  forward: { rows: 1, length: 64, repeats: 1 },
  generate: { prompt: 16, tokens: 8, batches: [1, 8] },
  train: { rows: 1, length: 64, steps: 1 },
};

/** Deterministic token ids in [4, vocab) (0-3 are the tokenizer's special tokens). */
function tokenIds(rows: number, length: number, vocab: number, seed: number): number[][] {
  let x = seed;
  return Array.from({ length: rows }, () =>
    Array.from({ length }, () => 4 + ((x = (x * 1103515245 + 12345) % 2147483648) % (vocab - 4))),
  );
}

function ensureCheckpoint(root: string, shape: DecoderShape): string {
  const settings: CheckpointSettings = { shape, seed: 7, maxPositions: CONTEXT };
  const dir = checkpointDir(root, settings);
  if (!isComplete(dir)) {
    console.log(
      `writing a random Llama of ${(parameterCount(shape) / 1e6).toFixed(1)}M parameters to ${dir}`,
    );
    // A child process, so the generator's buffers are not in this process's peak RSS.
    execFileSync(
      process.execPath,
      [path.join(__dirname, 'random-checkpoint.js'), dir, JSON.stringify(settings)],
      {
        stdio: 'inherit',
      },
    );
  }
  return dir;
}

function maxAbsDiff(a: Float32Array, b: Float32Array, what: string): number {
  if (a.length !== b.length)
    throw new Error(`${what}: ${a.length} logits on our side, ${b.length} on PyTorch's`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

function checkSame(diff: number, what: string): void {
  console.log(`  ${what}: max |logits ours - PyTorch| = ${diff.toExponential(2)}`);
  if (!(diff <= LOGITS_TOLERANCE))
    throw new Error(
      `${what}: logits differ from PyTorch's by ${diff} (> ${LOGITS_TOLERANCE}): not the same model`,
    );
}

function parityOnTiny(dir: string, scratch: string): void {
  const ids = tokenIds(2, 16, PARITY_MODEL.vocab, 99);
  const { model } = loadPretrained(dir);
  const ours = tf.tidy(() => model.logits(tf.tensor2d(ids, undefined, 'int32')).dataSync());
  model.dispose();
  checkSame(maxAbsDiff(ours as Float32Array, torchLogits(dir, ids, scratch), 'tiny'), 'tiny Llama [2 x 16]');
}

function workload(sizes: Sizes, vocab: number, trainSteps: number, generation: boolean): Workload {
  const { forward, generate, train } = sizes;
  return {
    lora: LORA,
    checkIds: tokenIds(1, 16, vocab, 5),
    forward: { ids: tokenIds(forward.rows, forward.length, vocab, 11), repeats: forward.repeats },
    generate: {
      prompts: generation ? generate.batches.map((b) => tokenIds(b, generate.prompt, vocab, 100 + b)) : [],
      tokens: generate.tokens,
    },
    train: { sequences: tokenIds(train.rows, train.length + 1, vocab, 23), steps: trainSteps },
  };
}

function runTorch(
  dir: string,
  work: Workload,
  scratch: string,
  threads: TorchThreads,
  label: string,
): TorchBenchResult & { check: Float32Array } {
  const checkOut = path.join(scratch, `torch-check-${process.pid}.f32`);
  const result = torchBench({ dir, ...threads, checkOut, ...work });
  const generation = Object.entries(result.generateTokensPerSecond)
    .map(([batch, tps]) => `batch ${batch} ${tps.toFixed(1)}`)
    .join(', ');
  console.log(
    `PyTorch (${label}, ${describeThreads(threads)}): 1024^3 matmul ${result.matmulGflops.toFixed(0)} GFLOP/s; tokens/s forward ` +
      `${result.forwardTokensPerSecond?.toFixed(1) ?? '-'}, generation ${generation || '-'}, training ${result.trainTokensPerSecond?.toFixed(1) ?? '-'}; load ${loadAverage()}`,
  );
  return { ...result, check: readFloats(checkOut) };
}

/** PyTorch's own threads and OpenBLAS's: `2` (both 2) or `1/2` (1 for PyTorch's ops, 2 for its matmuls). */
interface TorchThreads {
  threads: number;
  blasThreads: number;
}

function parseTorchThreads(list: string): TorchThreads[] {
  return list.split(',').map((entry) => {
    const [threads, blasThreads = threads] = entry.split('/').map(Number);
    if (![threads, blasThreads].every((t) => Number.isInteger(t) && t > 0))
      throw new Error(`--torch-threads: ${entry} is not N or N/M (positive integers)`);
    return { threads, blasThreads };
  });
}

const describeThreads = ({ threads, blasThreads }: TorchThreads) =>
  threads === blasThreads
    ? `${threads} thread${threads === 1 ? '' : 's'}`
    : `${threads} thread${threads === 1 ? '' : 's'}, OpenBLAS ${blasThreads}`;

/**
 * Each figure, the best of PyTorch's runs: load on a shared machine must not flatter us, and PyTorch's two
 * OpenMP threads collapse when the machine's cores are busy (decoding 4-5x slower than one thread, measured).
 */
function best(runs: TorchBenchResult[]): TorchBenchResult {
  const max = (values: (number | undefined)[]) =>
    values.some((v) => v === undefined) ? undefined : Math.max(...(values as number[]));
  const [first] = runs;
  return {
    ...first,
    matmulGflops: Math.max(...runs.map((r) => r.matmulGflops)),
    loadSeconds: Math.min(...runs.map((r) => r.loadSeconds)),
    forwardTokensPerSecond: max(runs.map((r) => r.forwardTokensPerSecond)),
    trainTokensPerSecond: max(runs.map((r) => r.trainTokensPerSecond)),
    generateTokensPerSecond: Object.fromEntries(
      Object.keys(first.generateTokensPerSecond).map((k) => [
        k,
        Math.max(...runs.map((r) => r.generateTokensPerSecond[k])),
      ]),
    ),
    peakRssMb: Object.fromEntries(
      Object.keys(first.peakRssMb).map((k) => [k, Math.min(...runs.map((r) => r.peakRssMb[k]))]),
    ),
  };
}

const loadAverage = () => os.loadavg()[0].toFixed(1);
const ratio = (ours: number | undefined, torch: number | undefined) =>
  ours === undefined || torch === undefined
    ? '-'
    : `${ours.toFixed(1)} vs PyTorch ${torch.toFixed(1)} = ${(ours / torch).toFixed(2)}x`;
const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MiB`;

function describe(backend: BackendInfo): string {
  const blas = backend.blas ? ` [${backend.blas}, ${backend.threads} BLAS thread(s)]` : '';
  return `${backend.name}${blas}${backend.simd !== undefined ? ` (simd ${backend.simd})` : ''}`;
}

function report(
  label: string,
  sizes: Sizes,
  ours: OurResult,
  torch: TorchBenchResult,
  backendName: string,
): void {
  const { forward, train, generate } = sizes;
  console.log(`backend: ${label}`);
  console.log(`  load: ${ours.loadSeconds.toFixed(1)} s vs PyTorch ${torch.loadSeconds.toFixed(1)} s`);
  console.log(
    `  forward ${forward.rows} x ${forward.length} tokens/s: ${ratio(ours.forwardTokensPerSecond, torch.forwardTokensPerSecond)}`,
  );
  for (const [batch, tps] of Object.entries(ours.generateTokensPerSecond))
    console.log(
      `  generation batch ${batch} (prompt ${generate.prompt}, ${generate.tokens} new, greedy, KV cache) tokens/s: ${ratio(tps, torch.generateTokensPerSecond[batch])}`,
    );
  console.log(
    `  LoRA training ${train.rows} x ${train.length} tokens/s (rank ${LORA.rank}, ${LORA.targets.join('/')}, AdamW): ${ratio(ours.trainTokensPerSecond, torch.trainTokensPerSecond)}`,
  );
  if (ours.firstLoss !== undefined && torch.firstLoss !== undefined)
    console.log(
      `  first training loss: ours ${ours.firstLoss.toFixed(5)}, PyTorch ${torch.firstLoss.toFixed(5)}`,
    );
  const family = backendFamily(backendName);
  const formulas: Record<string, number> = {};
  if (ours.memory.train)
    formulas.train = trainingMemory(
      BENCH_MODEL,
      LORA,
      { rows: train.rows, length: train.length },
      { family, chunking: true },
    ).total;
  if (ours.memory.generate) {
    const rows = Math.max(...generate.batches);
    const length = generate.prompt + generate.tokens;
    formulas.generate = generationMemory(BENCH_MODEL, { rows, prompt: generate.prompt, length }).total;
  }
  for (const [name, m] of Object.entries(ours.memory)) {
    const formula = formulas[name];
    console.log(
      `  memory, ${name}: peak RSS ${m.peakRssMb.toFixed(0)} MiB` +
        (m.wasmHeapMb === null ? '' : `, wasm heap ${m.wasmHeapMb.toFixed(0)} MiB`) +
        `, tensor data at most ${m.tensorPeakMb.toFixed(0)} MiB` +
        (formula === undefined
          ? ''
          : ` (lora-memory.ts: ${mb(formula)}, measured/formula ${((m.tensorPeakMb * 2 ** 20) / formula).toFixed(3)})`) +
        (torch.peakRssMb[name] === undefined
          ? ''
          : `; PyTorch peak RSS so far ${torch.peakRssMb[name].toFixed(0)} MiB`),
    );
  }
}

async function main(): Promise<void> {
  const options = new Command()
    .option('--backends <list>', 'comma-separated, in this order: wasm-openblas, wasm, cpu', 'wasm-openblas')
    .option('--quick', 'a smoke run: small batches, one training step')
    .option('--train-steps <n>', 'timed training steps')
    .option(
      '--blas-threads <n>',
      'wasm-openblas: OpenBLAS threads (default: the backend default, RECON_BLAS_THREADS or 1)',
    )
    .option(
      '--cache-dir <dir>',
      'where the generated checkpoints are kept',
      path.join(os.tmpdir(), 'recon-bench-pretrained'),
    )
    .option(
      '--torch-threads <list>',
      "PyTorch's runs by thread count, N or N/M (N for its own ops, M for OpenBLAS): the first before ours, the others after",
      '2,1,1/2',
    )
    .option('--no-generation', 'skip generation')
    .option('--no-training', 'skip training')
    .parse()
    .opts<{
      backends: string;
      quick?: boolean;
      trainSteps?: string;
      blasThreads?: string;
      torchThreads: string;
      cacheDir: string;
      generation: boolean;
      training: boolean;
    }>();
  const sizes = options.quick ? QUICK : FULL;
  const steps = options.training ? Number(options.trainSteps ?? sizes.train.steps) : 0;
  if (!Number.isInteger(steps) || steps < 0)
    throw new Error(`--train-steps: ${options.trainSteps} is not a count`);
  const threads = options.blasThreads === undefined ? undefined : Number(options.blasThreads);
  if (threads !== undefined && !(Number.isInteger(threads) && threads > 0))
    throw new Error(`--blas-threads: ${options.blasThreads} is not a positive integer`);
  const torchThreads = parseTorchThreads(options.torchThreads);
  fs.mkdirSync(options.cacheDir, { recursive: true });
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'recon-bench-pretrained-run-'));
  try {
    const tinyDir = ensureCheckpoint(options.cacheDir, PARITY_MODEL);
    const benchDir = ensureCheckpoint(options.cacheDir, BENCH_MODEL);
    console.log(
      `model: Llama, ${(parameterCount(BENCH_MODEL) / 1e6).toFixed(1)}M parameters (hidden ${BENCH_MODEL.hidden}, ${BENCH_MODEL.layers} layers, ` +
        `${BENCH_MODEL.heads} heads, ${BENCH_MODEL.kvHeads} KV heads, intermediate ${BENCH_MODEL.intermediate}, vocab ${BENCH_MODEL.vocab}, tied), float32; ${benchDir}`,
    );
    const work = workload(sizes, BENCH_MODEL.vocab, steps, options.generation);
    const [firstThreads, ...laterThreads] = torchThreads;
    const before = runTorch(benchDir, work, scratch, firstThreads, 'before ours');
    const ours: { label: string; name: BackendName; result: OurResult }[] = [];
    for (const name of options.backends.split(',') as BackendName[]) {
      const backend = await selectBackend(name, name === 'wasm-openblas' && threads ? { threads } : {});
      console.log(`${describe(backend)}: logits against PyTorch`);
      parityOnTiny(tinyDir, scratch);
      const result = measureOurs(benchDir, work, CONTEXT);
      checkSame(maxAbsDiff(result.checkLogits, before.check, 'bench model'), `bench model [1 x 16]`);
      ours.push({ label: describe(backend), name, result });
      console.log(`  measured on ${backend.name}, load ${loadAverage()}`);
    }
    const after = laterThreads.map((t) => runTorch(benchDir, work, scratch, t, 'after ours'));
    const torch = best([before, ...after]);
    console.log(
      `\nratios against the best figure of PyTorch's ${torchThreads.length} runs (${torchThreads.map(describeThreads).join('; ')}; 1024^3 matmul ${torch.matmulGflops.toFixed(0)} GFLOP/s at best; load now ${loadAverage()})`,
    );
    for (const { label, name, result } of ours) report(label, sizes, result, torch, name);
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error((error as Error).message);
  process.exit(1);
});
