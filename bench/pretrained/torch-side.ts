import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { repoPath } from './repo-path';

const SCRIPT = repoPath('bench/pretrained/torch_llama.py');
const PYTHON = '/usr/bin/python3';

export interface TorchBenchArgs {
  dir: string;
  /** PyTorch's own (OpenMP) threads. */
  threads: number;
  /** OpenBLAS's threads (default: threads). */
  blasThreads?: number;
  lora: { rank: number; alpha: number; targets: readonly string[] };
  /** Ids whose logits are written to checkOut (float32 [B, T, V]), to compare with ours. */
  checkIds: number[][];
  checkOut: string;
  forward: { ids: number[][]; repeats: number };
  generate: { prompts: number[][][]; tokens: number };
  train: { sequences: number[][]; steps: number };
}

export interface TorchBenchResult {
  threads: number;
  matmulGflops: number;
  loadSeconds: number;
  forwardTokensPerSecond?: number;
  generateTokensPerSecond: Record<string, number>;
  trainTokensPerSecond?: number;
  /** Loss of the first (warm-up) training step, before any update: the base model's loss. */
  firstLoss?: number;
  /** Cumulative peak RSS (getrusage ru_maxrss) after each stage, MiB. */
  peakRssMb: Record<string, number>;
}

/**
 * Runs torch_llama.py with `threads` threads for PyTorch's own ops and `blasThreads` (default the same) for
 * its matmuls: Debian's torch calls the system OpenBLAS, which keeps its own thread count (2 here) whatever
 * torch.set_num_threads says.
 */
function runPython(
  args: { mode: string; threads: number; blasThreads?: number } & Record<string, unknown>,
): string {
  try {
    return execFileSync(PYTHON, [SCRIPT, JSON.stringify(args)], {
      env: {
        ...process.env,
        OMP_NUM_THREADS: String(args.threads),
        OPENBLAS_NUM_THREADS: String(args.blasThreads ?? args.threads),
      },
      encoding: 'utf8',
      maxBuffer: 64 * 2 ** 20,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (error) {
    const stderr = String((error as { stderr?: unknown }).stderr ?? '').trim();
    throw new Error(`${PYTHON} ${SCRIPT} failed: ${stderr.split('\n').pop() || (error as Error).message}`);
  }
}

export function torchBench(args: TorchBenchArgs): TorchBenchResult {
  const out = runPython({ mode: 'bench', ...args });
  return JSON.parse(out.trim().split('\n').pop()!) as TorchBenchResult;
}

/** PyTorch's logits [B, T, V] of `ids` for the checkpoint in `dir`. */
export function torchLogits(dir: string, ids: number[][], scratch: string): Float32Array {
  const out = path.join(scratch, `torch-logits-${process.pid}.f32`);
  runPython({ mode: 'logits', threads: 2, dir, ids, out });
  return readFloats(out);
}

export function readFloats(file: string): Float32Array {
  const bytes = fs.readFileSync(file);
  fs.rmSync(file);
  return new Float32Array(Uint8Array.from(bytes).buffer);
}
