import * as tf from '@tensorflow/tfjs-core';
import { blasUnavailableReason, loadBlas, type BlasAddon } from './blas-addon';
import { activeBackend, selectBackend } from './select-backend';
import { setWasmBlas, wasmBlasEnabled } from './wasm-blas-matmul-kernel';
import { embedRows, linear, matmul2d } from '../model/ops';
import { TransformerPolicy } from '../model/transformer';
import { SftTrainer } from '../training/sft-trainer';
import { causalSelfAttention } from '../model/causal-attention';
import { maxAbsDiff, SMALL_TRANSFORMER } from '../training/testing/transformer-checks';
import { ensureGradientsRegistered } from '../training/tfjs-gradients';

// The OpenBLAS kernels against tfjs's cpu kernels (products: the stock wasm kernels get transposed fused
// products and batch dims broadcast on both sides wrong) and against the stock wasm kernels (gradients,
// toggled in between): every transpose case, batched and broadcast products, the fused bias, and the
// heap growing while a product is taken. Built by `npm run setup`; only a missing addon skips these.
const unavailable = blasUnavailableReason();
if (unavailable) console.warn(`OpenBLAS matmul tests skipped: ${unavailable}`);
const describeBlas = unavailable ? describe.skip : describe;

ensureGradientsRegistered();

let addon: BlasAddon;
let calls = 0;

/** Runs `f` on the stock kernels and on OpenBLAS, returning both results (kept) and the gemm call count. */
function both<T extends tf.Tensor | tf.Tensor[]>(f: () => T): { stock: T; blas: T; gemms: number } {
  setWasmBlas(null);
  const stock = tf.tidy(f);
  setWasmBlas(countingAddon());
  const before = calls;
  const blas = tf.tidy(f);
  return { stock, blas, gemms: calls - before };
}

function countingAddon(): BlasAddon {
  return {
    ...addon,
    gemm: (...args: Parameters<BlasAddon['gemm']>) => {
      calls++;
      addon.gemm(...args);
    },
  };
}

function random(shape: number[], seed: number): tf.Tensor {
  return tf.randomNormal(shape, 0, 1, 'float32', seed);
}

/** `f` of the same values on tfjs's cpu backend, returned to wasm. */
async function onCpu(f: (...xs: tf.Tensor[]) => tf.Tensor, inputs: tf.Tensor[]): Promise<tf.Tensor> {
  const data = inputs.map((x) => [x.dataSync().slice(), x.shape] as const);
  await tf.setBackend('cpu');
  let values: Float32Array;
  let shape: number[];
  try {
    const out = f(...data.map(([v, sh]) => tf.tensor(v, sh)));
    [values, shape] = [out.dataSync() as Float32Array, out.shape];
  } finally {
    await tf.setBackend('wasm');
  }
  return tf.tensor(values, shape);
}

/** Runs `f` on OpenBLAS and on the cpu backend; expects one gemm call per `gemms` and equal values. */
async function expectCpuEquals(
  f: (...xs: tf.Tensor[]) => tf.Tensor,
  inputs: tf.Tensor[],
  k: number,
  gemms: number,
  reference = f,
): Promise<tf.Tensor> {
  setWasmBlas(countingAddon());
  const before = calls;
  const got = f(...inputs);
  expect(calls - before).toBe(gemms);
  const want = await onCpu(reference, inputs);
  expect(got.shape).toEqual(want.shape);
  expect(maxAbsDiff(got, want)).toBeLessThan(tolerance(k));
  return got;
}

/** Float tolerance of a length-k dot product of N(0,1) values. */
const tolerance = (k: number) => 2e-6 * Math.max(1, k);

describeBlas('OpenBLAS matmul kernels on wasm', () => {
  beforeAll(async () => {
    await selectBackend('wasm-openblas');
    addon = loadBlas().addon;
  });

  afterAll(() => setWasmBlas(addon));

  it('selectBackend records the pinned kernels and thread count; plain wasm turns them off', async () => {
    const info = activeBackend()!;
    expect(info.name).toBe('wasm-openblas');
    expect(info.tfjsBackend).toBe('wasm');
    expect(info.blas).toMatch(/^OpenBLAS \d+\.\d+\.\d+ \w+$/);
    expect(info.threads).toBe(1);
    await selectBackend('wasm');
    expect(wasmBlasEnabled()).toBe(false);
    const older = info.blas!.replace(/\d+\.\d+\.\d+/, '0.0.1');
    await expect(selectBackend('wasm-openblas', { blas: older, threads: 2 })).rejects.toThrow(
      /backend wasm-openblas is not usable here: the run used OpenBLAS 0.0.1 \w+, this machine has OpenBLAS/,
    );
    const again = await selectBackend('wasm-openblas', { blas: info.blas, threads: 1 });
    expect(again.threads).toBe(1);
    expect((await selectBackend('wasm-openblas', { blas: info.blas, threads: 2 })).threads).toBe(2);
    expect(wasmBlasEnabled()).toBe(true);
  });

  it('RECON_BLAS=off refuses wasm-openblas, and auto then falls back to plain wasm', async () => {
    const previous = process.env.RECON_BLAS;
    process.env.RECON_BLAS = 'off';
    await selectBackend('wasm');
    try {
      await expect(selectBackend('wasm-openblas')).rejects.toThrow(/disabled by RECON_BLAS=off/);
      const info = await selectBackend('auto');
      expect(['tensorflow-gpu', 'tensorflow', 'wasm']).toContain(info.name);
      expect(info.skipped.find((s) => s.name === 'wasm-openblas')?.reason).toMatch(/RECON_BLAS=off/);
    } finally {
      if (previous === undefined) delete process.env.RECON_BLAS;
      else process.env.RECON_BLAS = previous;
    }
    await selectBackend('wasm-openblas');
  });

  it('2-D products in all four transpose cases equal the cpu kernel, on random shapes', async () => {
    let seed = 10;
    for (const [m, k, n] of [
      [1, 1, 1],
      [1, 37, 5],
      [7, 1, 9],
      [33, 64, 17],
      [130, 65, 257],
      [256, 32, 256],
    ])
      for (const transposeA of [false, true])
        for (const transposeB of [false, true]) {
          const a = random(transposeA ? [k, m] : [m, k], seed++);
          const b = random(transposeB ? [n, k] : [k, n], seed++);
          await expectCpuEquals((x, y) => tf.matMul(x, y, transposeA, transposeB), [a, b], k, 1);
        }
  });

  it('batched products (rank 3 and 4, broadcast batch dims, transposed) equal the cpu kernel', async () => {
    const cases: [number[], number[], boolean, boolean, number][] = [
      [[4, 9, 6], [4, 6, 5], false, false, 1],
      [[4, 6, 9], [4, 5, 6], true, true, 1],
      [[1, 9, 6], [3, 6, 5], false, false, 1],
      [[3, 9, 6], [6, 5], false, false, 1],
      [[9, 6], [3, 5, 6], false, true, 1],
      [[2, 3, 8, 4], [2, 3, 4, 7], false, false, 1],
      [[8, 1, 32], [8, 20, 32], false, true, 1], // decoding: one query row per (sequence, head)
      // Batch dims broadcast on both sides: one product per output matrix.
      [[2, 3, 4, 8], [3, 7, 4], true, true, 6],
    ];
    for (const [i, [sa, sb, ta, tb, gemms]] of cases.entries())
      await expectCpuEquals(
        (x, y) => tf.matMul(x, y, ta, tb),
        [random(sa, 100 + i), random(sb, 200 + i)],
        sa[sa.length - (ta ? 2 : 1)],
        gemms,
      );
    // tfjs's own kernels (cpu and wasm) mishandle [2,1]x[1,3] batch dims: the reference tiles them first.
    await expectCpuEquals(
      (x, y) => tf.matMul(x, y),
      [random([2, 1, 5, 4], 300), random([1, 3, 4, 6], 301)],
      4,
      6,
      (x, y) => tf.matMul(tf.tile(x, [1, 3, 1, 1]), tf.tile(y, [2, 1, 1, 1])),
    );
  });

  it('fused matmul with a bias (and transposes) equals the cpu kernel; activations stay stock', async () => {
    const bias = random([11], 3) as tf.Tensor1D;
    for (const rows of [70, 5])
      // sgemm, and the few-rows kernel of decoding
      for (const [ta, tb] of [
        [false, false],
        [true, false],
        [false, true],
        [true, true],
      ]) {
        const a = random(ta ? [40, rows] : [rows, 40], 4);
        const b = random(tb ? [11, 40] : [40, 11], 5);
        await expectCpuEquals(
          (x, y, z) =>
            tf.fused.matMul({
              a: x as tf.Tensor2D,
              b: y as tf.Tensor2D,
              bias: z,
              transposeA: ta,
              transposeB: tb,
            }),
          [a, b, bias],
          40,
          1,
        );
      }
    const [a, b] = [random([70, 40], 6), random([40, 11], 7)];
    const relu = (x: tf.Tensor, y: tf.Tensor, z: tf.Tensor) =>
      tf.fused.matMul({ a: x as tf.Tensor2D, b: y as tf.Tensor2D, bias: z, activation: 'relu' });
    await expectCpuEquals(relu, [a, b, bias], 40, 0);
    const empty = (x: tf.Tensor, y: tf.Tensor, z: tf.Tensor) =>
      tf.fused.matMul({ a: x as tf.Tensor2D, b: y as tf.Tensor2D, bias: z });
    await expectCpuEquals(empty, [tf.zeros([3, 0]), tf.zeros([0, 11]), bias], 1, 0);
  });

  it('results are bit-identical from call to call', () => {
    const a = random([300, 200], 8);
    const b = random([200, 150], 9);
    const first = tf.matMul(a, b).dataSync().slice();
    for (let i = 0; i < 3; i++) expect(tf.matMul(a, b).dataSync()).toEqual(first);
  });

  it('gradients through the kernels equal those of the stock kernels', () => {
    const x = random([70, 24], 11) as tf.Tensor2D;
    const w = random([24, 36], 12) as tf.Tensor2D;
    const bias = random([36], 13) as tf.Tensor1D;
    const probe = random([70, 36], 14);
    const grads = () =>
      tf.grads((xs: tf.Tensor, ws: tf.Tensor, bs: tf.Tensor) =>
        tf.sum(
          tf.mul(
            tf.add(
              linear(xs as tf.Tensor2D, ws as tf.Tensor2D, bs as tf.Tensor1D),
              tf.matMul(tf.matMul(xs, ws), tf.matMul(ws, ws, true, false)),
            ),
            probe,
          ),
        ),
      )([x, w, bias]);
    const { stock, blas, gemms } = both(grads);
    expect(gemms).toBeGreaterThan(5);
    blas.forEach((g, i) =>
      expect(maxAbsDiff(g, stock[i])).toBeLessThan(
        1e-3 * Math.max(1, tf.max(tf.abs(stock[i])).dataSync()[0]),
      ),
    );
    const plain = both(() =>
      tf.grads((xs: tf.Tensor, ws: tf.Tensor) =>
        tf.sum(tf.mul(matmul2d(xs as tf.Tensor2D, ws as tf.Tensor2D), probe)),
      )([x, w]),
    );
    plain.blas.forEach((g, i) => expect(maxAbsDiff(g, plain.stock[i])).toBeLessThan(1e-4));
  });

  it('attention with all heads at once on OpenBLAS equals the per-block path of plain wasm, with gradients', () => {
    for (const [batch, t, heads, d] of [
      [2, 12, 4, 16],
      [3, 7, 2, 10],
    ]) {
      const [q, k, v] = [0, 1, 2].map((i) => random([batch * t, d], 20 + i) as tf.Tensor2D);
      const probe = random([batch * t, d], 23);
      const { stock, blas } = both(() => {
        const out = causalSelfAttention(q, k, v, batch, heads);
        const grads = tf.grads((qs: tf.Tensor, ks: tf.Tensor, vs: tf.Tensor) =>
          tf.sum(
            tf.mul(
              causalSelfAttention(qs as tf.Tensor2D, ks as tf.Tensor2D, vs as tf.Tensor2D, batch, heads),
              probe,
            ),
          ),
        )([q, k, v]);
        return [out, ...grads];
      });
      blas.forEach((g, i) => expect(maxAbsDiff(g, stock[i])).toBeLessThan(1e-5));
    }
  });

  it('the embedding gradient (rows scattered on the heap) equals the one-hot matmul of plain wasm', () => {
    const table = random([13, 6], 40) as tf.Tensor2D;
    const ids = tf.tensor1d([3, 0, 12, 3, 3, 7, 0], 'int32');
    const probe = random([7, 6], 41);
    const { stock, blas } = both(() =>
      tf.grads((t: tf.Tensor) => tf.sum(tf.mul(embedRows(t as tf.Tensor2D, ids), probe)))([table]),
    );
    expect(maxAbsDiff(blas[0], stock[0])).toBeLessThan(1e-6);
  });

  it('SFT steps of a transformer (tied head or not) match plain wasm to float tolerance and repeat bit for bit', () => {
    const examples = Array.from({ length: 8 }, (_, i) => ({
      tokens: Array.from({ length: 20 }, (_, t) => (i * 7 + t * 3) % SMALL_TRANSFORMER.vocabSize),
      completionStart: 4,
    }));
    const losses = (addonOrNull: BlasAddon | null, tieEmbeddings: boolean) => {
      setWasmBlas(addonOrNull);
      const model = new TransformerPolicy({ ...SMALL_TRANSFORMER, tieEmbeddings });
      const trainer = new SftTrainer(model, examples, {
        batchSize: 4,
        padId: 0,
        seed: 1,
        schedule: { type: 'constant', learningRate: 1e-3, totalSteps: 10 },
      });
      const metrics = Array.from({ length: 3 }, () => trainer.trainStep());
      trainer.dispose();
      model.dispose();
      return metrics.flatMap((m) => [m.loss, m.gradNorm]);
    };
    for (const tied of [false, true]) {
      const plain = losses(null, tied);
      const blasRun = losses(addon, tied);
      blasRun.forEach((x, i) =>
        expect(Math.abs(x - plain[i])).toBeLessThan(1e-4 * Math.max(1, Math.abs(plain[i]))),
      );
      expect(losses(addon, tied)).toEqual(blasRun);
    }
  });

  it('reads the heap after the output is allocated, when that allocation grows the wasm memory', () => {
    const heap = () =>
      (tf.backend() as unknown as { wasm: { HEAPU8: Uint8Array } }).wasm.HEAPU8.buffer.byteLength;
    const before = heap();
    const side = Math.ceil(Math.sqrt(before / 4)) + 64; // the [side, side] output alone outgrows the heap
    const a = random([side, 1], 30);
    const b = random([1, side], 31);
    const out = tf.matMul(a, b);
    expect(heap()).toBeGreaterThan(before);
    const [av, bv] = [a.dataSync(), b.dataSync()];
    const values = out.dataSync();
    for (const [i, j] of [
      [0, 0],
      [side - 1, side - 1],
      [side >> 1, 7],
    ])
      expect(values[i * side + j]).toBe(Math.fround(av[i] * bv[j]));
    tf.dispose([a, b, out]);
  });

  it('gemm refuses operands outside the buffer instead of touching other memory', () => {
    const heap = new ArrayBuffer(64);
    expect(() => addon.gemm(heap, false, false, 1, 4, 4, 4, 0, 4, 0, 0, 4, 0, 16, 4, 0, -1)).toThrow(
      /outside the buffer/,
    );
    expect(() => addon.gemm(heap, false, false, 1, 2, 2, 2, 2, 2, 0, 0, 2, 0, 32, 2, 0, -1)).toThrow(
      /aligned/,
    );
    addon.gemm(heap, false, false, 1, 2, 2, 2, 0, 2, 0, 16, 2, 0, 32, 2, 0, -1);
  });
});
