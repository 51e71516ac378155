import * as tf from '@tensorflow/tfjs-core';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { type BackendName, causalMask, selectBackend } from '@recon/policy';
import { HfTokenizer } from './hf-tokenizer';
import { loadPretrained } from './load-pretrained';
import { readSafetensors } from './safetensors';

/*
 * Parity with transformers on the committed tiny checkpoints (libs/pretrained/fixtures, written by
 * reference/make_tiny_checkpoints.py: transformers' LlamaForCausalLM and Qwen2ForCausalLM, cross-checked
 * there against an independent PyTorch forward). Llama: fp16, untied head, llama3 rope scaling, one file.
 * Qwen2: bf16, tied embeddings, q/k/v biases, linear rope scaling, three shards, padded vocabulary.
 */
const FIXTURES = path.resolve(__dirname, '../fixtures');
const reference = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'reference.json'), 'utf8')) as Record<
  string,
  {
    inputIds: number[][];
    promptIds: number[];
    greedy: number[];
    messages: { role: string; content: string }[];
    chatText: string;
    sample: string;
    sampleIds: number[];
  }
>;
const TOLERANCE = 1e-4;

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe.each(['cpu', 'wasm'] as BackendName[])('pretrained checkpoints on %s', (backend) => {
  beforeAll(async () => {
    await selectBackend(backend);
  });

  describe.each(['tiny-llama', 'tiny-qwen2'])('%s', (name) => {
    const dir = path.join(FIXTURES, name);
    const ref = reference[name];
    const expected = readSafetensors(path.join(FIXTURES, `${name}.reference.safetensors`)).get('logits')!;

    it('logits match transformers to float tolerance', () => {
      const { model } = loadPretrained(dir);
      const ids = tf.tensor2d(ref.inputIds, undefined, 'int32');
      const logits = model.logits(ids);
      expect(logits.shape).toEqual(expected.shape);
      expect(maxAbsDiff(logits.dataSync(), expected.values)).toBeLessThan(TOLERANCE);
      tf.dispose([ids, logits]);
      model.dispose();
    });

    it('decoding through the KV cache gives the full forward pass logits', () => {
      const { model } = loadPretrained(dir);
      const row = ref.inputIds[0];
      const [vocab] = expected.shape.slice(2);
      let cache = model.emptyCache();
      // A prefix of 5 in one call, then one token at a time.
      for (const [start, end] of [[0, 5], ...row.slice(5).map((_, i) => [5 + i, 6 + i])]) {
        const n = end - start;
        const step = model.decode(
          {
            ids: tf.tensor2d([row.slice(start, end)], [1, n], 'int32'),
            positions: tf.tensor2d([Array.from({ length: n }, (_, i) => start + i)], [1, n], 'int32'),
            mask: tf.reshape(causalMask(n, end), [1, 1, n, end]) as tf.Tensor4D,
          },
          cache,
        );
        for (const t of [...cache.keys, ...cache.values]) t.dispose();
        cache = step.cache;
        const want = expected.values.subarray((end - 1) * vocab, end * vocab);
        expect(maxAbsDiff(step.logits.dataSync(), want)).toBeLessThan(TOLERANCE);
        step.logits.dispose();
      }
      for (const t of [...cache.keys, ...cache.values]) t.dispose();
      model.dispose();
    });

    it('greedy generation with the KV cache matches transformers token for token', () => {
      const { model } = loadPretrained(dir);
      expect(model.greedy(ref.promptIds, ref.greedy.length, [])).toEqual(ref.greedy);
      model.dispose();
    });

    it('tokenizer and chat template match transformers', () => {
      const tokenizer = HfTokenizer.load(dir);
      expect(tokenizer.applyChatTemplate(ref.messages)).toBe(ref.chatText);
      expect(tokenizer.encode(ref.chatText)).toEqual(ref.promptIds);
      expect(tokenizer.encode(ref.sample)).toEqual(ref.sampleIds);
      expect(tokenizer.decode(ref.sampleIds)).toBe(ref.sample);
    });
  });
});
