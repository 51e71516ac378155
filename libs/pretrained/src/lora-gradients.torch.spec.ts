import * as tf from '@tensorflow/tfjs-core';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  type BackendName,
  buildTokenBatch,
  decodeStep,
  disposeBatch,
  disposeCache,
  selectBackend,
  SftTrainer,
  type TokenSequence,
} from '@recon/policy';
import { Mulberry32 } from '@recon/random';
import { loadPretrained } from './load-pretrained';
import type { LoraSettingsInput } from './lora-settings';
import { peftTensorName, savePeftAdapter } from './peft-adapter';
import type { PretrainedCausalLM } from './pretrained-model';

/*
 * LoRA on the committed tiny checkpoints against an independent PyTorch implementation
 * (reference/lora_reference.py: torch_forward.py's forward in float64 with PEFT's LoRA formula, reading our
 * PEFT export; no transformers or PEFT needed): the adapted model's logits, the gradients of SftTrainer's
 * loss with respect to every lora_A and lora_B, and decoding through the KV cache with the adapters on, as
 * the sampler does for rollouts. parity.spec.ts covers the base model (and its cache) against transformers.
 */
const PYTHON = process.env.RECON_TORCH_PYTHON ?? '/usr/bin/python3';
const torchAvailable = spawnSync(PYTHON, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0;
if (!torchAvailable)
  console.warn(
    `lora-gradients.torch.spec.ts skipped: ${PYTHON} cannot import torch (set RECON_TORCH_PYTHON to a Python with torch)`,
  );
const SCRIPT = path.resolve(__dirname, '../reference/lora_reference.py');
const FIXTURES = path.resolve(__dirname, '../fixtures');

/** float32 against a float64 reference, on logits of up to ~8 (measured: 1.7e-5 on wasm, 4.8e-6 on cpu). */
const LOGITS_TOLERANCE = 1e-4;
/** Per tensor: max |ours - torch| <= GRAD_ATOL + GRAD_RTOL * max |torch| (measured: at most 5.8e-6 * max |torch|). */
const GRAD_RTOL = 1e-4;
const GRAD_ATOL = 1e-7;

/** Llama: untied head, llama3 rope, scale 2. Qwen2: tied, q/k/v biases, linear rope, every target, scale 0.5. */
const LORA: Record<string, LoraSettingsInput> = {
  'tiny-llama': { rank: 4, alpha: 8, targets: ['q_proj', 'k_proj', 'o_proj', 'gate_proj', 'down_proj'] },
  'tiny-qwen2': {
    rank: 8,
    alpha: 4,
    targets: ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'],
  },
};

const rng = new Mulberry32(2024);
const randomIds = (n: number) => Array.from({ length: n }, () => Math.floor(rng.next() * 320));
/** Different lengths, so the batch is right-padded and the cache test left-pads its prompts. */
const SEQUENCES: TokenSequence[] = [
  { tokens: randomIds(14), completionStart: 5 },
  { tokens: randomIds(9), completionStart: 3 },
  { tokens: randomIds(12), completionStart: 8 },
];
const PAD_ID = 0;
/** Prompt lengths for the cache test: each row's inputs after these are fed one token per step. */
const PROMPTS = [6, 3, 5];

interface Reference {
  logits: number[][][];
  loss: number;
  grads: Record<string, number[][]>;
}

function maxAbs(values: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < values.length; i++) m = Math.max(m, Math.abs(values[i]));
  return m;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** The fixture with random, clearly non-zero LoRA A and B (as trained ones would be). */
function adaptedFixture(name: string): PretrainedCausalLM {
  const { model } = loadPretrained(path.join(FIXTURES, name), { lora: LORA[name], seed: 7 });
  const values = new Mulberry32(11);
  for (const weight of model.namedWeights().values()) {
    const random = Float32Array.from({ length: weight.size }, () => (values.next() * 2 - 1) * 0.3);
    tf.tidy(() => weight.assign(tf.tensor(random, weight.shape)));
  }
  return model;
}

/** Exports the model's adapters in PEFT's format and runs the PyTorch reference on SEQUENCES' batch. */
function runReference(name: string, model: PretrainedCausalLM): Reference {
  const adapterDir = fs.mkdtempSync(path.join(os.tmpdir(), 'recon-lora-ref-'));
  savePeftAdapter(model, adapterDir);
  const batch = buildTokenBatch(SEQUENCES, PAD_ID);
  const request = {
    ids: batch.inputIds.arraySync(),
    targets: batch.targetIds.arraySync(),
    weights: batch.completionMask.arraySync(),
    normalizer: batch.completionTokens,
  };
  disposeBatch(batch);
  const run = spawnSync(PYTHON, [SCRIPT, path.join(FIXTURES, name), adapterDir], {
    input: JSON.stringify(request),
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  fs.rmSync(adapterDir, { recursive: true });
  if (run.status !== 0) throw new Error(`lora_reference.py failed (${run.status}): ${run.stderr}`);
  return JSON.parse(run.stdout) as Reference;
}

const references = new Map<string, Reference>();

(torchAvailable ? describe.each : describe.skip.each)(['cpu', 'wasm'] as BackendName[])(
  'LoRA against PyTorch on %s',
  (backend) => {
    beforeAll(async () => {
      await selectBackend(backend);
    });

    describe.each(['tiny-llama', 'tiny-qwen2'])('%s', (name) => {
      let model: PretrainedCausalLM;
      let reference: Reference;
      beforeAll(() => {
        model = adaptedFixture(name);
        if (!references.has(name)) references.set(name, runReference(name, model));
        reference = references.get(name)!;
      });
      afterAll(() => model.dispose());

      it('logits of the adapted model match, and the adapters move them', () => {
        const batch = buildTokenBatch(SEQUENCES, PAD_ID);
        const ours = tf.tidy(() => model.logits(batch.inputIds).dataSync());
        model.setAdaptersEnabled(false);
        const base = tf.tidy(() => model.logits(batch.inputIds).dataSync());
        model.setAdaptersEnabled(true);
        disposeBatch(batch);
        const theirs = reference.logits.flat(2);
        expect(maxAbsDiff(ours, theirs)).toBeLessThan(LOGITS_TOLERANCE);
        expect(maxAbsDiff(base, theirs)).toBeGreaterThan(1);
      });

      it("gradients of SftTrainer's loss match for every lora_A and lora_B", () => {
        const trainer = new SftTrainer(model, SEQUENCES, {
          batchSize: SEQUENCES.length,
          padId: PAD_ID,
          seed: 1,
          schedule: { type: 'constant', learningRate: 0.01, totalSteps: 1 },
        });
        const tokens = SEQUENCES.reduce((n, s) => n + s.tokens.length - s.completionStart, 0);
        const { value, grads } = trainer.microBatchGradients(SEQUENCES, tokens);
        trainer.dispose();
        expect(Math.abs(value - reference.loss)).toBeLessThan(1e-5 * Math.abs(reference.loss));
        const names = Object.keys(grads);
        expect(names.map(peftTensorName).sort()).toEqual(Object.keys(reference.grads).sort());
        expect(names).toHaveLength(2 * 2 * LORA[name].targets!.length);
        const rows = names.map((weight) => {
          // PEFT's [out, in] layout is the transpose of ours.
          const ours = tf.tidy(() => tf.transpose(grads[weight]).dataSync());
          const theirs = reference.grads[peftTensorName(weight)].flat();
          return { weight, scale: maxAbs(theirs), error: maxAbsDiff(ours, theirs) };
        });
        tf.dispose(Object.values(grads));
        // Every gradient is far from zero (B is non-zero, so A's are too) and within tolerance.
        expect(rows.filter((r) => r.scale < 1e-3)).toEqual([]);
        expect(rows.filter((r) => r.error > GRAD_ATOL + GRAD_RTOL * r.scale)).toEqual([]);
      });

      it('decoding a left-padded batch through the KV cache, adapters on, gives the full forward logits', () => {
        const rows = SEQUENCES.map((s) => s.tokens.slice(0, -1));
        const longest = Math.max(...PROMPTS);
        const pads = PROMPTS.map((p) => longest - p);
        const vocab = reference.logits[0][0].length;
        let worst = 0;
        let compared = 0;
        let { logits, cache } = decodeStep(
          model,
          model.emptyCache(),
          rows.flatMap((row, b) => [...new Array<number>(pads[b]).fill(PAD_ID), ...row.slice(0, PROMPTS[b])]),
          pads,
          longest,
        );
        for (let step = 0; ; step++) {
          rows.forEach((row, b) => {
            const position = PROMPTS[b] - 1 + step;
            if (position >= row.length) return;
            const ours = logits.subarray(b * vocab, (b + 1) * vocab);
            worst = Math.max(worst, maxAbsDiff(ours, reference.logits[b][position]));
            compared++;
          });
          const next = rows.map((row, b) => row[PROMPTS[b] + step] ?? PAD_ID);
          if (rows.every((row, b) => PROMPTS[b] + step >= row.length)) break;
          ({ logits, cache } = decodeStep(model, cache, next, pads, 1));
        }
        disposeCache(cache);
        expect(compared).toBe(
          rows.reduce((n, row) => n + row.length, 0) - PROMPTS.reduce((n, p) => n + p - 1, 0),
        );
        expect(worst).toBeLessThan(LOGITS_TOLERANCE);
      });
    });
  },
);
