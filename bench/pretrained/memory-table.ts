/**
 * Prints the memory table of docs/policy.md ("Memory and GPUs"): LoRA training and generation memory of the
 * published Qwen2.5 configs in float32, from lora-memory.ts, beside the bench model it was checked on.
 * Usage: node dist/bench/pretrained/memory-table.js [--rank 8] [--context 2048] [--batch 8] [--generate 8192]
 */
import { Command } from 'commander';
import { WASM_HEAP_LIMIT_BYTES } from '@recon/policy';
import { PROJECTION_NAMES } from '@recon/pretrained';
import { BENCH_MODEL, type DecoderShape, parameterCount, PUBLISHED_MODELS } from './decoder-shape';
import {
  type BackendFamily,
  generationMemory,
  type LoraShape,
  trainingFloatsPerToken,
  trainingMemory,
  WASM_BASE_BYTES,
} from './lora-memory';

const size = (bytes: number) =>
  bytes >= 1e9 ? `${(bytes / 1e9).toFixed(1)} GB` : `${(bytes / 1e6).toFixed(0)} MB`;

/** The longest pass (tokens) whose training peak fits in `budget` bytes, or 0. */
function tokensThatFit(shape: DecoderShape, lora: LoraShape, family: BackendFamily, budget: number): number {
  const fits = (tokens: number) =>
    trainingMemory(shape, lora, { rows: 1, length: tokens }, { family, chunking: true }).total <= budget;
  let low = 0;
  let high = 1;
  while (fits(high)) [low, high] = [high, 2 * high];
  while (high - low > 1) {
    const mid = Math.floor((low + high) / 2);
    if (fits(mid)) low = mid;
    else high = mid;
  }
  return low;
}

function main(): void {
  const options = new Command()
    .option('--rank <n>', 'LoRA rank (adapters on all seven projections)', '8')
    .option('--context <n>', 'training sequence length', '2048')
    .option('--batch <n>', 'sequences per optimizer step, and prompts per generation batch', '8')
    .option('--generate <n>', 'generation: 2,048 prompt tokens plus new ones, per sequence', '8192')
    .parse()
    .opts<{ rank: string; context: string; batch: string; generate: string }>();
  const [rank, context, batch, length] = [options.rank, options.context, options.batch, options.generate].map(
    Number,
  );
  const lora = { rank, targets: PROJECTION_NAMES };
  const gpu = { family: 'shared-buffers', chunking: true } as const;
  const step = (s: DecoderShape, rows: number) => trainingMemory(s, lora, { rows, length: context }, gpu);
  const rows: [string, (s: DecoderShape) => string][] = [
    ['parameters', (s) => `${(parameterCount(s) / 1e9).toFixed(2)}B`],
    ['weights', (s) => size(step(s, 1).weights)],
    [`LoRA r${rank}, all 7 projections: adapters, gradients, AdamW`, (s) => size(step(s, 1).adapters)],
    [
      'activations + gradients per token, tensorflow(-gpu)',
      (s) => size(4 * trainingFloatsPerToken(s, lora, 'shared-buffers')),
    ],
    ['the same on wasm-openblas', (s) => size(4 * trainingFloatsPerToken(s, lora, 'wasm-openblas'))],
    [
      'frozen projections transposed in the backward pass (not on wasm-openblas)',
      (s) => size(step(s, 1).transposedWeights),
    ],
    [`SFT step of ${batch} x ${context} in one pass, tensorflow(-gpu)`, (s) => size(step(s, batch).total)],
    [
      `the same step in ${batch} micro-batches of one sequence (sft.gradientAccumulation: ${batch})`,
      (s) => size(step(s, 1).total),
    ],
    [
      'longest pass in 80 GB, tensorflow(-gpu) (tokens)',
      (s) => String(tokensThatFit(s, lora, 'shared-buffers', 80e9)),
    ],
    [
      'longest pass in 24 GB, tensorflow(-gpu) (tokens)',
      (s) => String(tokensThatFit(s, lora, 'shared-buffers', 24e9)),
    ],
    [
      'longest pass in the 4 GB wasm heap, wasm-openblas (tokens)',
      (s) => String(tokensThatFit(s, lora, 'wasm-openblas', WASM_HEAP_LIMIT_BYTES - WASM_BASE_BYTES)),
    ],
    [
      `KV cache of ${batch} x ${length} tokens (held twice while a step extends it)`,
      (s) => size(generationMemory(s, { rows: batch, prompt: 0, length }).kvCache),
    ],
    [
      `generation peak: ${batch} prompts of 2,048 tokens + ${length - 2048} new`,
      (s) => size(generationMemory(s, { rows: batch, prompt: 2048, length }).total),
    ],
  ];
  const models: [string, DecoderShape][] = [
    ['bench model', BENCH_MODEL],
    ...Object.entries(PUBLISHED_MODELS),
  ];
  console.log(`| float32 | ${models.map(([name]) => name).join(' | ')} |`);
  console.log(`| --- | ${models.map(() => '---:').join(' | ')} |`);
  for (const [label, cell] of rows)
    console.log(`| ${label} | ${models.map(([, s]) => cell(s)).join(' | ')} |`);
}

main();
