import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '@recon/policy';
import { loadPretrained } from '@recon/pretrained';
import {
  BENCH_MODEL,
  type DecoderShape,
  loraParameterCount,
  parameterCount,
  PUBLISHED_MODELS,
} from '../../bench/pretrained/decoder-shape';
import { backendFamily, trainingMemory } from '../../bench/pretrained/lora-memory';
import { meterLoraStep } from '../../bench/pretrained/lora-step-meter';
import { writeRandomCheckpoint } from '../../bench/pretrained/random-checkpoint';

/*
 * bench/pretrained's parameter counts and training-memory formula (the memory table of docs/policy.md): the
 * counts against the model cards, the formula against the tensor data a LoRA step holds at its peak, metered
 * on the backend's allocations.
 */

describe('decoder shapes', () => {
  it('count the parameters the model cards give', () => {
    expect(parameterCount(PUBLISHED_MODELS['Qwen2.5-0.5B'])).toBe(494_032_768);
    expect(parameterCount(PUBLISHED_MODELS['Qwen2.5-1.5B'])).toBe(1_543_714_304);
    expect(parameterCount(PUBLISHED_MODELS['Qwen2.5-7B'])).toBe(7_615_616_512);
    expect(parameterCount(BENCH_MODEL)).toBe(100_092_672);
  });
});

/** Passes [rows, length] per backend: cpu's kernels are slow, so its passes are shorter. */
const PASSES = {
  wasm: [
    [2, 128],
    [1, 256],
  ],
  cpu: [
    [1, 64],
    [2, 48],
  ],
};

describe.each(['wasm', 'cpu'] as const)(
  'a random checkpoint and the training-memory formula on %s',
  (backend) => {
    // Not one of the shapes the coefficients were measured on (lora-memory.ts).
    const shape: DecoderShape = {
      hidden: 96,
      intermediate: 256,
      layers: 3,
      heads: 6,
      kvHeads: 2,
      headDim: 16,
      vocab: 512,
      tieEmbeddings: true,
      qkvBias: false,
    };
    const lora = { rank: 8, alpha: 16, targets: ['q_proj', 'k_proj', 'v_proj', 'o_proj'] as const };
    let dir: string;

    beforeAll(async () => {
      await selectBackend(backend);
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'random-llama-'));
      writeRandomCheckpoint(dir, { shape, seed: 3, maxPositions: 512 });
    });

    afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

    it('loads with every tensor the config implies, holding parameterCount floats', () => {
      const { model } = loadPretrained(dir, { lora: { ...lora, targets: [...lora.targets] } });
      const before = tf.memory().numBytes;
      model.dispose();
      const adapters = loraParameterCount(shape, lora.rank, lora.targets);
      // Base weights, adapters and the rotary frequencies (headDim / 2 floats).
      expect(before - tf.memory().numBytes).toBe(4 * (parameterCount(shape) + adapters + shape.headDim / 2));
    });

    it.each(PASSES[backend])(
      'bounds the tensor data a LoRA step of %i x %i tokens holds at its peak from above, within 10%%',
      (rows, length) => {
        const step = meterLoraStep(dir, lora, { rows, length, vocab: shape.vocab });
        const predicted = trainingMemory(
          shape,
          lora,
          { rows, length },
          { family: backendFamily(backend), chunking: true },
        );
        const measured = step.held + step.peak;
        expect(measured).toBeLessThanOrEqual(1.01 * predicted.total);
        expect(measured).toBeGreaterThan(0.9 * predicted.total);
      },
    );
  },
);
