/**
 * Measures the per-token coefficients of lora-memory.ts: for each backend and adapter placement, the tensor
 * data one LoRA step holds at its peak (meterTensorMemory) with 1 and 2 sequences of 32 tokens, on tiny random
 * Llamas that vary one dimension at a time; the difference is per-token memory, fitted by least squares to
 * layers x (hidden, q, kv, intermediate, headDim, 1) + vocab + hidden. Prints the coefficients and how well
 * they predict two shapes left out of the fit.
 * Usage: node dist/bench/pretrained/memory-fit.js [--backends wasm-openblas,wasm,cpu]
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Command } from 'commander';
import { type BackendName, selectBackend } from '@recon/policy';
import { type Projection, PROJECTION_NAMES } from '@recon/pretrained';
import type { DecoderShape } from './decoder-shape';
import { meterLoraStep } from './lora-step-meter';
import { writeRandomCheckpoint } from './random-checkpoint';

const LENGTH = 32;
const BASE: DecoderShape = {
  hidden: 64,
  intermediate: 160,
  layers: 2,
  heads: 4,
  kvHeads: 2,
  headDim: 16,
  vocab: 384,
  tieEmbeddings: true,
  qkvBias: false,
};
const FITTED: Partial<DecoderShape>[] = [
  {},
  { layers: 4 },
  { hidden: 128 },
  { heads: 8, kvHeads: 2 },
  { heads: 8, kvHeads: 4 },
  { intermediate: 320 },
  { vocab: 768 },
  { headDim: 32 },
];
const HELD_OUT: Partial<DecoderShape>[] = [
  { hidden: 96, heads: 6, kvHeads: 2, intermediate: 256, vocab: 512, layers: 3 },
  { hidden: 128, heads: 8, kvHeads: 2, headDim: 8, intermediate: 192, vocab: 640 },
];
const PLACEMENTS: Record<string, Projection[]> = {
  attention: ['q_proj', 'k_proj', 'v_proj', 'o_proj'],
  all: PROJECTION_NAMES,
};
const FEATURES = ['hidden', 'q', 'kv', 'intermediate', 'headDim', 'perLayer', 'vocab', 'embedding'];

function features(s: DecoderShape): number[] {
  const L = s.layers;
  return [
    L * s.hidden,
    L * s.heads * s.headDim,
    L * s.kvHeads * s.headDim,
    L * s.intermediate,
    L * s.headDim,
    L,
    s.vocab,
    s.hidden,
  ];
}

/** Bytes of tensor data a LoRA step of `rows` x LENGTH tokens adds at its peak (AdamW's moments already there). */
function stepPeak(dir: string, shape: DecoderShape, targets: Projection[], rows: number): number {
  return meterLoraStep(dir, { rank: 8, alpha: 16, targets }, { rows, length: LENGTH, vocab: shape.vocab })
    .peak;
}

/** Floats per token of `shape`: the peak's growth from one sequence to two, over their tokens. */
function perToken(shape: DecoderShape, targets: Projection[]): number {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'recon-memory-fit-'));
  try {
    writeRandomCheckpoint(dir, { shape, seed: 3, maxPositions: 256 });
    return (stepPeak(dir, shape, targets, 2) - stepPeak(dir, shape, targets, 1)) / LENGTH / 4;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Least squares by the normal equations (a few unknowns, exact data). */
function leastSquares(a: number[][], y: number[]): number[] {
  const n = a[0].length;
  const m = Array.from({ length: n }, (_, i) => [
    ...Array.from({ length: n }, (_, j) => a.reduce((sum, row) => sum + row[i] * row[j], 0)),
    a.reduce((sum, row, k) => sum + row[i] * y[k], 0),
  ]);
  for (let col = 0; col < n; col++) {
    const pivot = m
      .slice(col)
      .reduce((best, row, k) => (Math.abs(row[col]) > Math.abs(m[best][col]) ? col + k : best), col);
    [m[col], m[pivot]] = [m[pivot], m[col]];
    for (let row = 0; row < n; row++) {
      if (row === col) continue;
      const factor = m[row][col] / m[col][col];
      for (let k = col; k <= n; k++) m[row][k] -= factor * m[col][k];
    }
  }
  return m.map((row, i) => row[n] / row[i]);
}

async function main(): Promise<void> {
  const { backends } = new Command()
    .option('--backends <list>', 'comma-separated: wasm-openblas, wasm, cpu', 'wasm-openblas,wasm,cpu')
    .parse()
    .opts<{ backends: string }>();
  for (const backend of backends.split(',') as BackendName[]) {
    await selectBackend(backend);
    for (const [placement, targets] of Object.entries(PLACEMENTS)) {
      const shapes = FITTED.map((change) => ({ ...BASE, ...change }));
      const measured = shapes.map((shape) => perToken(shape, targets));
      const c = leastSquares(shapes.map(features), measured);
      const coefficients = FEATURES.map((name, i) => `${name}: ${c[i].toFixed(2)}`).join(', ');
      console.log(`${backend}, adapters on ${placement}: { ${coefficients} }`);
      for (const change of HELD_OUT) {
        const shape = { ...BASE, ...change };
        const predicted = features(shape).reduce((sum, f, i) => sum + f * c[i], 0);
        console.log(
          `  left out ${JSON.stringify(change)}: measured / fitted = ${(perToken(shape, targets) / predicted).toFixed(4)}`,
        );
      }
    }
  }
}

main().catch((error) => {
  console.error((error as Error).message);
  process.exit(1);
});
