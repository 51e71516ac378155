import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import { disposeCache, KvCache, TransformerPolicy } from '../model/transformer';
import { Rng } from '../training/rng';
import { chooseToken, logSoftmax } from './token-choice';

export const samplingOptionsSchema = z.strictObject({
  temperature: z.number().min(0).default(1),
  topP: z.number().gt(0).max(1).default(1),
  topK: z.number().int().min(0).default(0),
  maxTokens: z.number().int().min(1),
  stop: z.array(z.string().min(1)).default([]),
  stopTokenIds: z.array(z.number().int().min(0)).default([]),
});
export type SamplingOptions = z.output<typeof samplingOptionsSchema>;
export type SamplingOptionsInput = z.input<typeof samplingOptionsSchema>;

export interface SampleRequest {
  promptIds: readonly number[];
  /** Each sample draws from its own generator, so a completion does not depend on its batch-mates. */
  seed: number;
}

export interface SampledCompletion {
  /** Generated token ids (including the stop token or the token that completed a stop string). */
  tokens: number[];
  /** Decoded completion, cut before a matched stop string. */
  text: string;
  /** log p(token) of each generated token under the sampling distribution (logits / temperature). */
  logProbs: number[];
  finishReason: 'stop' | 'length';
  /** True when generation ended on max tokens or the context, not on a stop. */
  truncated: boolean;
}

/**
 * What generation needs of a model: the built-in TransformerPolicy, or a loaded pretrained checkpoint.
 * `decodeFused` (TransformerPolicy on wasm-openblas) takes a step on plain arrays when it can.
 */
export type DecodingModel = Pick<TransformerPolicy, 'decode' | 'emptyCache'> &
  Partial<Pick<TransformerPolicy, 'decodeFused'>> & {
    config: { context: number };
  };

export interface TextDecoder {
  decode(ids: readonly number[]): string;
}

interface Slot {
  tokens: number[];
  logProbs: number[];
  rng: Rng;
  done: boolean;
  text?: string;
  finishReason?: 'stop' | 'length';
}

/**
 * Batched generation with a KV cache. Prompts are left-padded; each row's positions start at 0 at its
 * first real token and padded keys are masked, so a row's output equals what it would get alone.
 */
export function generate(
  model: DecodingModel,
  decoder: TextDecoder,
  requests: readonly SampleRequest[],
  optionsInput: SamplingOptionsInput,
): SampledCompletion[] {
  const options = samplingOptionsSchema.parse(optionsInput);
  if (requests.length === 0) return [];
  const context = model.config.context;
  const batch = requests.length;
  const promptLength = Math.max(...requests.map((r) => r.promptIds.length));
  requests.forEach((r, i) => {
    if (r.promptIds.length === 0) throw new Error(`generate: request ${i} has an empty prompt`);
    if (r.promptIds.length >= context)
      throw new Error(
        `generate: request ${i} prompt has ${r.promptIds.length} tokens; the context is ${context}`,
      );
  });
  const maxNew = Math.min(options.maxTokens, context - promptLength);
  const pads = requests.map((r) => promptLength - r.promptIds.length);
  const slots: Slot[] = requests.map((r) => ({
    tokens: [],
    logProbs: [],
    rng: new Rng(r.seed),
    done: false,
  }));
  const stopIds = new Set(options.stopTokenIds);

  let cache: KvCache = model.emptyCache();
  let ids = requests.flatMap((r, b) => [...new Array<number>(pads[b]).fill(0), ...r.promptIds]);
  let n = promptLength;
  try {
    for (let step = 0; step < maxNew; step++) {
      const out = decodeStep(model, cache, ids, pads, n);
      cache = out.cache;
      const logits = out.logits;
      const vocab = logits.length / batch;
      const next: number[] = [];
      for (let b = 0; b < batch; b++) {
        const slot = slots[b];
        if (slot.done) {
          next.push(0);
          continue;
        }
        const row = logits.subarray(b * vocab, (b + 1) * vocab);
        const token = chooseToken(row, options, slot.rng);
        slot.tokens.push(token);
        slot.logProbs.push(logSoftmax(row, options.temperature)[token]);
        next.push(token);
        settle(slot, decoder, options, stopIds, token);
      }
      if (slots.every((s) => s.done)) break;
      ids = next;
      n = 1;
    }
  } finally {
    disposeCache(cache);
  }
  return slots.map((slot) => {
    const text = slot.text ?? decoder.decode(slot.tokens);
    const finishReason = slot.finishReason ?? 'length';
    return {
      tokens: slot.tokens,
      text,
      logProbs: slot.logProbs,
      finishReason,
      truncated: finishReason === 'length',
    };
  });
}

/**
 * One incremental forward pass: feeds `n` new ids per row (row-major, `pads[b]` left-padding per row) after
 * the cache, disposes the old cache and returns the last position's logits [batch * vocab] and the new cache.
 */
export function decodeStep(
  model: DecodingModel,
  cache: KvCache,
  ids: readonly number[],
  pads: readonly number[],
  n: number,
): { logits: Float32Array; cache: KvCache } {
  const batch = pads.length;
  const start = cache.length;
  const keys = start + n;
  const positions = new Int32Array(batch * n);
  const mask = new Float32Array(batch * n * keys).fill(-1e9);
  for (let b = 0; b < batch; b++)
    for (let t = 0; t < n; t++) {
      const absolute = start + t;
      positions[b * n + t] = Math.max(0, absolute - pads[b]);
      const row = (b * n + t) * keys;
      if (absolute < pads[b])
        mask[row + absolute] = 0; // a padding query only sees itself
      else for (let s = pads[b]; s <= absolute; s++) mask[row + s] = 0;
    }
  const fused = model.decodeFused?.({ ids: Int32Array.from(ids), positions, mask, batch, n }, cache);
  if (fused) {
    disposeCache(cache);
    return fused;
  }
  const inputs = {
    ids: tf.tensor2d(Int32Array.from(ids), [batch, n], 'int32'),
    positions: tf.tensor2d(positions, [batch, n], 'int32'),
    mask: tf.tensor4d(mask, [batch, 1, n, keys]),
  };
  const out = model.decode(inputs, cache);
  for (const t of Object.values(inputs)) t.dispose();
  disposeCache(cache);
  const logits = out.logits.dataSync() as Float32Array;
  out.logits.dispose();
  return { logits, cache: out.cache };
}

function settle(
  slot: Slot,
  decoder: TextDecoder,
  options: SamplingOptions,
  stopIds: Set<number>,
  token: number,
): void {
  if (stopIds.has(token)) {
    slot.done = true;
    slot.finishReason = 'stop';
    slot.text = decoder.decode(slot.tokens.slice(0, -1));
    return;
  }
  if (options.stop.length === 0) return;
  const text = decoder.decode(slot.tokens);
  let cut = -1;
  for (const stop of options.stop) {
    const at = text.indexOf(stop);
    if (at >= 0 && (cut < 0 || at < cut)) cut = at;
  }
  if (cut >= 0) {
    slot.done = true;
    slot.finishReason = 'stop';
    slot.text = text.slice(0, cut);
  }
}
