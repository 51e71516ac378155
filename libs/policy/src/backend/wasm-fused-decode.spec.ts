import * as tf from '@tensorflow/tfjs-core';
import { blasUnavailableReason, loadBlas, type BlasAddon } from './blas-addon';
import { selectBackend } from './select-backend';
import { fusedDecodingActive, setFusedDecoding } from './wasm-fused-decode';
import { setWasmBlas } from './wasm-blas-matmul-kernel';
import { DECODE_ATTENTION_KERNEL } from './wasm-decode-attention-kernel';
import { LAYER_NORM_KERNEL } from './wasm-layer-norm-kernel';
import { normalValues } from '../model/init';
import type { TransformerConfigInput } from '../model/config';
import { disposeCache, type KvCache, TransformerPolicy } from '../model/transformer';
import { generateConstrained } from '../sampling/constrained';
import { decodeStep, generate } from '../sampling/sampler';
import { SPECIAL_TOKEN_IDS } from '../tokenizer/special-tokens';
import { trainTokenizer } from '../tokenizer/train';
import { Rng } from '../training/rng';

// The fused decoder (native/blas-matmul/fused_decode.c) against the tfjs kernels it replaces on
// wasm-openblas: logits equal bit for bit at every step (so greedy and sampled tokens, and replays of runs
// recorded either way, are identical), for bench:policy's sizes at batch 1 and 8 past the cache's chunk
// boundaries, and for the cases the sampler meets: left padding, several tokens per step (constrained
// decoding's forced runs), more than the few-rows kernel's 16 rows, steps of 64 rows and more (which take
// the tfjs kernels, the cache moving between the two), a cache decoded from twice, tied heads, LoRA, and
// weights assigned after the cache was made. Built by `npm run setup`; only a missing addon skips these.
const unavailable = blasUnavailableReason();
if (unavailable) console.warn(`fused decoder tests skipped: ${unavailable}`);
const describeBlas = unavailable ? describe.skip : describe;

const SIZE_A: TransformerConfigInput = {
  vocabSize: 512,
  dModel: 128,
  layers: 4,
  heads: 4,
  context: 256,
  seed: 1,
};
const SIZE_B: TransformerConfigInput = {
  vocabSize: 2048,
  dModel: 256,
  layers: 6,
  heads: 8,
  context: 256,
  seed: 1,
};
const SMALL: TransformerConfigInput = {
  vocabSize: 50,
  dModel: 24,
  layers: 2,
  heads: 3,
  context: 160,
  seed: 3,
};

/**
 * Gives every weight random values (gains near 1, biases and LoRA's B away from 0), so that no part of
 * the formula (a gain, a bias, an adapter) can be misplaced without changing the logits.
 */
function randomise(model: TransformerPolicy, seed: number): void {
  const rng = new Rng(seed);
  for (const [name, weight] of model.namedWeights()) {
    const std = /gain|bias/.test(name) ? 0.2 : /embed/.test(name) ? 0.6 : 0.12;
    const values = normalValues(rng, weight.size, std);
    if (name.endsWith('.gain')) for (let i = 0; i < values.length; i++) values[i] += 1;
    tf.tidy(() => weight.assign(tf.tensor(values, weight.shape)));
  }
}

interface Trace {
  logits: Float32Array[];
  tokens: number[][];
  /** Whether each step's cache came from the fused decoder. */
  fused: boolean[];
}

/**
 * Decodes `steps` steps after left-padded prompts, feeding each row its greedy token (or `feed` tokens at
 * a time when given per step), through the sampler's decodeStep, with the fused decoder on or off.
 */
function trace(
  model: TransformerPolicy,
  prompts: number[][],
  steps: number,
  fused: boolean,
  feed: (step: number) => number = () => 1,
): Trace {
  setFusedDecoding(fused);
  const longest = Math.max(...prompts.map((p) => p.length));
  const pads = prompts.map((p) => longest - p.length);
  let ids = prompts.flatMap((p, b) => [...new Array<number>(pads[b]).fill(0), ...p]);
  let n = longest;
  let cache: KvCache = model.emptyCache();
  const out: Trace = { logits: [], tokens: [], fused: [] };
  const vocab = model.config.vocabSize;
  try {
    for (let step = 0; step < steps; step++) {
      const result = decodeStep(model, cache, ids, pads, n);
      cache = result.cache;
      out.logits.push(result.logits);
      out.fused.push(cache.fused !== undefined);
      const next = prompts.map((_, b) => {
        const row = result.logits.subarray(b * vocab, (b + 1) * vocab);
        let best = 0;
        for (let i = 1; i < vocab; i++) if (row[i] > row[best]) best = i;
        return best;
      });
      out.tokens.push(next);
      // Several tokens per step: the greedy one and the ids after it (as constrained decoding's forced runs).
      n = feed(step + 1);
      ids = next.flatMap((t) => Array.from({ length: n }, (_, i) => (t + 7 * i) % vocab));
    }
  } finally {
    disposeCache(cache);
    setFusedDecoding(true);
  }
  return out;
}

/** The two traces' logits are the same bits at every step, and so are their tokens. */
function expectIdentical(fused: Trace, kernels: Trace): void {
  expect(fused.logits.length).toBe(kernels.logits.length);
  fused.logits.forEach((logits, step) => {
    const [a, b] = [new Uint32Array(logits.buffer), new Uint32Array(kernels.logits[step].buffer)];
    let first = -1;
    for (let i = 0; i < a.length && first < 0; i++) if (a[i] !== b[i]) first = i;
    expect({ step, first }).toEqual({ step, first: -1 });
  });
  expect(fused.tokens).toEqual(kernels.tokens);
}

const prompt = (length: number, salt: number, vocab: number) =>
  Array.from({ length }, (_, i) => (i * 13 + salt * 31 + 5) % vocab);

describeBlas('fused decoder on wasm-openblas', () => {
  let addon: BlasAddon;

  beforeAll(async () => {
    await selectBackend('wasm-openblas');
    addon = loadBlas().addon;
  });

  afterAll(() => setFusedDecoding(true));

  it("computes exp as V8's Math.exp does, bit for bit", () => {
    const rng = new Rng(11);
    // Every branch of fdlibm's exp and its edges (the addon takes four values at a time, so each is mixed
    // into different lanes and neighbours below), then random values over the ranges the decoder meets.
    const edges = [0, -0, 1, -1, 2, 0.5, 1e-300, -1e-300, 2 ** -28, -(2 ** -28), 2 ** -29, -(2 ** -29)];
    edges.push(
      0.5 * Math.LN2,
      -0.5 * Math.LN2,
      1.5 * Math.LN2,
      -1.5 * Math.LN2,
      709.78,
      709.79,
      709.782712893384,
    );
    edges.push(
      -707.7,
      -708.4,
      -708.5,
      -709,
      -709.78,
      -709.79,
      -745.1332191019411,
      -745.1332191019412,
      -745.2,
    );
    edges.push(1e9, -1e9, Infinity, -Infinity, NaN, 1024 * Math.LN2, -1021 * Math.LN2, -1022 * Math.LN2);
    const values: number[] = [];
    for (const x of edges)
      for (const ulps of [-2, -1, 0, 1, 2])
        values.push(x === 0 || !Number.isFinite(x) ? x : x * (1 + ulps * 2 ** -52));
    for (let i = 0; i < 200_000; i++) {
      const u = rng.next();
      values.push((u - 0.5) * 1500, -u * 40, (rng.next() - 0.5) * 2, (rng.next() - 0.5) * 1e-6);
    }
    for (let i = values.length - 1; i > 0; i--) {
      const j = Math.floor(rng.next() * (i + 1));
      [values[i], values[j]] = [values[j], values[i]];
    }
    const ours = Float64Array.from(values);
    addon.exp(ours);
    const mismatches = values.filter((x, i) => !Object.is(Math.exp(x), ours[i]));
    expect(mismatches).toEqual([]);
  });

  it("the decode attention kernel's values from the addon are the JS kernel's, bit for bit", () => {
    const rng = new Rng(4);
    for (const [batch, n, s, heads, dh] of [
      [1, 1, 1, 1, 4],
      [2, 1, 37, 4, 32],
      [3, 5, 9, 3, 5],
      [2, 32, 32, 2, 16],
      [1, 7, 70, 8, 20],
    ]) {
      const d = heads * dh;
      const values = (size: number, std: number) => tf.tensor(normalValues(rng, size, std), [size]);
      const q = tf.reshape(values(batch * n * d, 1.5), [batch * n, d]);
      const keys = tf.reshape(values(batch * s * d, 1.5), [batch, s, d]);
      const vals = tf.reshape(values(batch * s * d, 1), [batch, s, d]);
      // Causal over the last n keys, a few more keys hidden as padding.
      const maskValues = new Float32Array(batch * n * s);
      for (let r = 0; r < batch * n; r++)
        for (let j = 0; j < s; j++)
          if (j > s - n + (r % n) || (j < 2 && j < s - n && rng.next() < 0.5)) maskValues[r * s + j] = -1e9;
      const mask = tf.tensor4d(maskValues, [batch, 1, n, s]);
      const run = () =>
        (
          tf
            .engine()
            .runKernel(DECODE_ATTENTION_KERNEL, { q, keys, values: vals, mask }, { heads }) as tf.Tensor
        ).dataSync();
      const native = run();
      setWasmBlas(null);
      const js = run();
      setWasmBlas(addon);
      expect(new Uint32Array(native.buffer)).toEqual(new Uint32Array(js.buffer));
    }
  });

  it("the LayerNorm kernel's values from the addon (decoder and training) are the JS kernel's, bit for bit", () => {
    const rng = new Rng(6);
    for (const [rows, cols, epsilon] of [
      [1, 1, 1e-5],
      [3, 7, 1e-5],
      [40, 128, 1e-5],
      [5, 256, 1e-3],
    ] as const) {
      const x = tf.tensor2d(normalValues(rng, rows * cols, 3), [rows, cols]);
      const gain = tf.tensor1d(normalValues(rng, cols, 0.5).map((v) => v + 1));
      const bias = tf.tensor1d(normalValues(rng, cols, 0.5));
      const run = () =>
        (tf.engine().runKernel(LAYER_NORM_KERNEL, { x, gain, bias }, { epsilon }) as tf.Tensor[]).map(
          (t) => new Uint32Array((t.dataSync() as Float32Array).buffer),
        );
      const native = run();
      setWasmBlas(null);
      const js = run();
      setWasmBlas(addon);
      expect(native).toEqual(js);
    }
  });

  it.each([
    ['a', 1, SIZE_A],
    ['a', 8, SIZE_A],
    ['b', 1, SIZE_B],
    ['b', 8, SIZE_B],
  ] as const)(
    'size (%s), batch %i: logits equal the tfjs kernels bit for bit over 100 steps',
    (_, batch, config) => {
      const model = new TransformerPolicy(config);
      randomise(model, 5);
      const vocab = model.config.vocabSize;
      // Left padding (prompts of 32 down to 25 tokens); 132 positions at the end: two chunk boundaries.
      const prompts = Array.from({ length: batch }, (_, b) => prompt(32 - b, b, vocab));
      const fused = trace(model, prompts, 100, true);
      const kernels = trace(model, prompts, 100, false);
      expectIdentical(fused, kernels);
      expect(kernels.fused.every((f) => !f)).toBe(true);
      // Batch 8's prompt is 256 rows: the tfjs kernels take it, the decoder every step after.
      expect(fused.fused).toEqual(fused.fused.map((_f, step) => step > 0 || batch === 1));
      model.dispose();
    },
  );

  it('greedy generation gives the same tokens and log-probabilities, and repeats bit for bit', () => {
    const model = new TransformerPolicy({ ...SIZE_A, seed: 9 });
    randomise(model, 2);
    const decoder = { decode: (ids: readonly number[]) => ids.join(' ') };
    const requests = [0, 1, 2].map((b) => ({ promptIds: prompt(10 + 3 * b, b, 512), seed: b }));
    const run = (fused: boolean, temperature: number) => {
      setFusedDecoding(fused);
      try {
        return generate(model, decoder, requests, { temperature, maxTokens: 90 });
      } finally {
        setFusedDecoding(true);
      }
    };
    for (const temperature of [0, 0.8]) {
      const once = run(true, temperature);
      expect(run(true, temperature)).toEqual(once);
      expect(run(false, temperature)).toEqual(once);
    }
    model.dispose();
  });

  it("with OpenBLAS on two threads (RECON_BLAS_THREADS=2) the values are the tfjs kernels' and, on few rows, one thread's", () => {
    const model = new TransformerPolicy({
      ...SMALL,
      vocabSize: 100,
      dModel: 64,
      heads: 4,
      lora: { rank: 2, alpha: 3, targets: ['q', 'up', 'down'] },
    });
    randomise(model, 15);
    // 3 rows (the few-rows kernel, single-threaded whatever OpenBLAS's count) and 20 (OpenBLAS, on 2 threads).
    const few = [prompt(5, 0, 50), prompt(3, 1, 50), prompt(4, 2, 50)];
    const many = Array.from({ length: 20 }, (_, b) => prompt(2 + (b % 2), b, 50));
    const oneThread = trace(model, few, 40, true);
    addon.setThreads(2);
    try {
      expect(addon.info().threads).toBe(2);
      const twoThreads = trace(model, few, 40, true);
      expectIdentical(twoThreads, oneThread);
      expect(twoThreads.fused.every((f) => f)).toBe(true);
      expectIdentical(trace(model, many, 12, true), trace(model, many, 12, false));
    } finally {
      addon.setThreads(1);
    }
    model.dispose();
  });

  it('tied head and LoRA (adapters on and off), 20 rows, several tokens per step, and 64-row steps', () => {
    const model = new TransformerPolicy({
      ...SMALL,
      tieEmbeddings: true,
      lora: { rank: 3, alpha: 5, targets: ['q', 'k', 'v', 'o', 'up', 'down'] },
    });
    randomise(model, 7);
    const prompts = Array.from({ length: 20 }, (_, b) => prompt(2 + (b % 3), b, 50));
    // Steps of 1, then 3 tokens per row (60 rows, sgemm in the decoder), then 4 (80 rows: the tfjs kernels,
    // from the decoder's cache), then 1 again (back to the decoder, from the tfjs kernels' cache).
    const feed = (step: number) => (step < 4 ? 1 : step < 7 ? 3 : step < 9 ? 4 : 1);
    for (const adapters of [true, false]) {
      model.setAdaptersEnabled(adapters);
      const fused = trace(model, prompts, 14, true, feed);
      expectIdentical(fused, trace(model, prompts, 14, false, feed));
      expect(fused.fused).toEqual(fused.fused.map((_f, step) => step > 0 && feed(step) < 4));
    }
    model.setAdaptersEnabled(true);
    const single = [prompt(5, 1, 50)];
    const feedSingle = (step: number) => (step % 3 === 0 ? 4 : 1);
    expectIdentical(trace(model, single, 30, true, feedSingle), trace(model, single, 30, false, feedSingle));
    model.dispose();
  });

  it('decode() with tensors takes the same step (a tfjs kernel) as the sampler, with the same values', () => {
    const model = new TransformerPolicy({ ...SMALL, tieEmbeddings: true });
    randomise(model, 13);
    const tokens = [3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5];
    const run = (fused: boolean) => {
      setFusedDecoding(fused);
      let cache = model.emptyCache();
      const logits: Float32Array[] = [];
      const kinds: boolean[] = [];
      try {
        for (const [start, ids] of [
          [0, tokens.slice(0, 4)],
          ...tokens.slice(4).map((t, i) => [4 + i, [t]] as const),
        ] as const) {
          const n = ids.length;
          const mask = new Float32Array(n * (start + n)).fill(-1e9);
          for (let t = 0; t < n; t++) for (let j = 0; j <= start + t; j++) mask[t * (start + n) + j] = 0;
          const input = {
            ids: tf.tensor2d([...ids], [1, n], 'int32'),
            positions: tf.tensor2d([ids.map((_, i) => start + i)], [1, n], 'int32'),
            mask: tf.tensor4d(mask, [1, 1, n, start + n]),
          };
          const out = model.decode(input, cache);
          tf.dispose(Object.values(input));
          disposeCache(cache);
          cache = out.cache;
          kinds.push(cache.fused !== undefined);
          logits.push(out.logits.dataSync() as Float32Array);
          out.logits.dispose();
        }
      } finally {
        disposeCache(cache);
        setFusedDecoding(true);
      }
      return { logits, kinds };
    };
    const before = tf.memory().numTensors;
    const fused = run(true);
    expect(tf.memory().numTensors).toBe(before);
    const kernels = run(false);
    expect(fused.kinds.every((k) => k)).toBe(true);
    expect(kernels.kinds.some((k) => k)).toBe(false);
    fused.logits.forEach((l, i) =>
      expect(new Uint32Array(l.buffer)).toEqual(new Uint32Array(kernels.logits[i].buffer)),
    );
    model.dispose();
  });

  it('a row gets the same logits alone as in a batch, and the weights assigned later are the ones used', () => {
    const model = new TransformerPolicy(SMALL);
    randomise(model, 8);
    // At most 16 rows per step (5 + 5 + 5 in the prompt), where every row's products are its own.
    const prompts = [prompt(5, 0, 50), prompt(3, 1, 50), prompt(4, 2, 50)];
    const together = trace(model, prompts, 12, true);
    prompts.forEach((p, b) => {
      const alone = trace(model, [p], 12, true);
      alone.logits.forEach((logits, step) =>
        expect(together.logits[step].subarray(b * 50, (b + 1) * 50)).toEqual(logits),
      );
    });
    randomise(model, 9);
    const changed = trace(model, prompts, 12, true);
    expect(changed.logits[0]).not.toEqual(together.logits[0]);
    expectIdentical(changed, trace(model, prompts, 12, false));
    model.dispose();
  });

  it('weights that moved to another backend and back are read where they are now', async () => {
    const model = new TransformerPolicy(SMALL);
    randomise(model, 14);
    const prompts = [prompt(5, 0, 50), prompt(4, 1, 50)];
    const before = trace(model, prompts, 6, true);
    await tf.setBackend('cpu');
    try {
      // A forward pass on cpu moves every weight there (freeing its place on the wasm heap), and a
      // tensor made meanwhile on wasm may take that place.
      tf.dispose(model.logits(tf.tensor2d([[1, 2, 3]], [1, 3], 'int32')));
    } finally {
      await tf.setBackend('wasm');
    }
    const filler = tf.fill([64, 64], 7);
    expect(fusedDecodingActive()).toBe(true);
    expectIdentical(trace(model, prompts, 6, true), before);
    filler.dispose();
    model.dispose();
  });

  it('a cache decoded from twice gives both continuations their own values; disposing frees the memory', () => {
    const model = new TransformerPolicy(SMALL);
    randomise(model, 10);
    const step = (cache: KvCache, ids: number[], n = 1) => decodeStep(model, cache, ids, [0], n);
    const first = step(model.emptyCache(), [4, 8, 15, 16], 4);
    const base = { ...first.cache };
    // decodeStep disposes the cache it is given, so the branches start from copies of the reference.
    const a = step({ ...base, fused: base.fused!.store.ref() }, [23]);
    const b = step({ ...base, fused: base.fused!.store.ref() }, [42]);
    expect(a.cache.fused).toBeDefined();
    expect(b.cache.fused).toBeUndefined(); // the decoder appended after this cache: the tfjs kernels take it
    setFusedDecoding(false);
    const want = [step(model.emptyCache(), [4, 8, 15, 16], 4)].map((s) => ({
      a: step(
        {
          ...s.cache,
          keys: s.cache.keys.map((k) => tf.clone(k)),
          values: s.cache.values.map((v) => tf.clone(v)),
        },
        [23],
      ),
      b: step(s.cache, [42]),
    }))[0];
    setFusedDecoding(true);
    expect(a.logits).toEqual(want.a.logits);
    expect(b.logits).toEqual(want.b.logits);
    const handle = a.cache.fused!.store.handle;
    expect(addon.kvLength(handle)).toBe(5);
    disposeCache(b.cache);
    disposeCache(want.a.cache);
    disposeCache(want.b.cache);
    disposeCache(base);
    expect(addon.kvLength(handle)).toBe(5);
    disposeCache(a.cache);
    expect(addon.kvLength(handle)).toBe(0);
    model.dispose();
  });

  it('constrained decoding takes the decoder and chooses as the tfjs kernels do', () => {
    const tokenizer = trainTokenizer({
      corpus: ['Answer <s>choice_1</s> or <s>choice_2</s> then stop. <C1R2> <C3R3> <Pass> <Bet> <10> <1>'],
      vocabSize: 300,
    });
    const model = new TransformerPolicy({ ...SMALL, vocabSize: tokenizer.vocabSize, context: 64 });
    randomise(model, 12);
    const promptIds = tokenizer.encodeChat([{ role: 'user', content: 'Pick: choice_1 or choice_2' }], {
      addGenerationPrompt: true,
    });
    const allowed = ['<s>choice_1</s>', '<s>choice_2</s>', '<C1R2>', '<C3R3>', '<Pass>', '<10>', '<1>'];
    const run = (fused: boolean, seed: number) => {
      setFusedDecoding(fused);
      try {
        return generateConstrained(model, tokenizer, { promptIds, seed }, allowed, {
          temperature: 1.5,
          endTokenId: SPECIAL_TOKEN_IDS.eos,
        });
      } finally {
        setFusedDecoding(true);
      }
    };
    for (let seed = 0; seed < 6; seed++) expect(run(true, seed)).toEqual(run(false, seed));
    model.dispose();
  });

  it('is off on plain wasm and when turned off, and leaves no tensor behind', async () => {
    const model = new TransformerPolicy(SMALL);
    const prompts = [prompt(4, 0, 50), prompt(2, 1, 50)];
    trace(model, prompts, 3, true);
    const before = tf.memory().numTensors;
    expect(trace(model, prompts, 5, true).fused.every((f) => f)).toBe(true);
    expect(tf.memory().numTensors).toBe(before);
    setFusedDecoding(false);
    expect(fusedDecodingActive()).toBe(false);
    setFusedDecoding(true);
    await selectBackend('wasm');
    try {
      expect(fusedDecodingActive()).toBe(false);
      expect(trace(model, prompts, 3, true).fused.some((f) => f)).toBe(false);
    } finally {
      await selectBackend('wasm-openblas');
      setWasmBlas(addon);
    }
    expect(fusedDecodingActive()).toBe(true);
    model.dispose();
  });

  it('the addon refuses a step that does not fit its inputs, before touching the cache', () => {
    const handle = addon.kvCreate(1, 2, 24, 3, 32);
    expect(() => addon.kvCreate(1, 2, 24, 3, 8)).toThrow(/bad shape/);
    const dims = Int32Array.from([50, 24, 2, 3, 160, 96, 0, 0]);
    // A heap holding every weight once, one after the other.
    const sizes = [50 * 24, 160 * 24, 24, 24, 24 * 50];
    const layer = [24, 24, 576, 24, 576, 24, 576, 24, 576, 24, 24, 24, 24 * 96, 96, 96 * 24, 24];
    for (let l = 0; l < 2; l++) sizes.push(...layer, ...new Array<number>(12).fill(0));
    const table = new Float64Array(sizes.length);
    let bytes = 0;
    sizes.forEach((size, i) => {
      table[i] = size === 0 ? -1 : bytes;
      bytes += 4 * size;
    });
    const heap = new ArrayBuffer(bytes);
    const step = (
      over: Partial<{
        table: Float64Array;
        length: number;
        ids: Int32Array;
        mask: Float32Array;
        heap: ArrayBuffer;
      }>,
    ) =>
      addon.decodeStep(
        over.heap ?? heap,
        over.table ?? table,
        dims,
        0,
        handle,
        over.length ?? 0,
        over.ids ?? Int32Array.of(3),
        Int32Array.of(0),
        over.mask ?? new Float32Array(1),
        1,
        new Float32Array(50),
      );
    expect(() => step({ heap: new ArrayBuffer(bytes - 4) })).toThrow(/outside the heap/);
    expect(() => step({ length: 3 })).toThrow(/another length/);
    expect(() => step({ table: table.subarray(1) })).toThrow(/wrong length/);
    expect(() => step({ mask: new Float32Array(2) })).toThrow(/wrong length/);
    expect(() => step({ ids: Int32Array.of(50) })).toThrow(/out of range/);
    expect(addon.kvLength(handle)).toBe(0);
    step({});
    expect(addon.kvLength(handle)).toBe(1);
    addon.kvFree(handle);
    expect(addon.kvLength(handle)).toBe(0);
  });
});
