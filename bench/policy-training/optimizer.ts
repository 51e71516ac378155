/**
 * Optimiser-step cost for a size-(a) parameter set (d_model 128, 4 layers, vocab 512; ~0.85M weights):
 * our AdamW (decoupled decay) + global-norm clipping vs tfjs's built-in Adam (no decay, no clipping)
 * in the same process on the same backend. Prints ms per step and the ratio; also checks that two
 * identical AdamW runs give identical weights (determinism). Usage: node dist/bench/policy-training/optimizer.js [cpu|wasm]
 */
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import { AdamW, clipGradNorm, disposeAll, weightsHash } from '../../libs/policy/src/training';

function sizeAShapes(): Record<string, number[]> {
  const d = 128;
  const shapes: Record<string, number[]> = { 'embed.weight': [512, d], 'ln_f.weight': [d], 'ln_f.bias': [d] };
  for (let l = 0; l < 4; l++) {
    const p = `layers.${l}.`;
    Object.assign(shapes, {
      [`${p}ln1.weight`]: [d],
      [`${p}ln1.bias`]: [d],
      [`${p}attn.qkv.weight`]: [d, 3 * d],
      [`${p}attn.qkv.bias`]: [3 * d],
      [`${p}attn.out.weight`]: [d, d],
      [`${p}attn.out.bias`]: [d],
      [`${p}ln2.weight`]: [d],
      [`${p}ln2.bias`]: [d],
      [`${p}mlp.up.weight`]: [d, 4 * d],
      [`${p}mlp.up.bias`]: [4 * d],
      [`${p}mlp.down.weight`]: [4 * d, d],
      [`${p}mlp.down.bias`]: [d],
    });
  }
  return shapes;
}

function makeWeights(seed: number): Map<string, tf.Variable> {
  return new Map(
    Object.entries(sizeAShapes()).map(([name, shape]) => [
      name,
      tf.variable(tf.randomNormal(shape, 0, 0.02, 'float32', seed), true),
    ]),
  );
}

function makeGrads(weights: Map<string, tf.Variable>, seed: number): Record<string, tf.Tensor> {
  return Object.fromEntries(
    [...weights].map(([name, w], i) => [name, tf.randomNormal(w.shape, 0, 0.01, 'float32', seed + i)]),
  );
}

function timeIt(steps: number, f: () => void): number {
  f(); // warm-up
  const start = performance.now();
  for (let i = 0; i < steps; i++) f();
  return (performance.now() - start) / steps;
}

async function main(): Promise<void> {
  const backend = process.argv[2] ?? 'wasm';
  if (!(await tf.setBackend(backend))) throw new Error(`backend ${backend} unavailable`);
  const steps = 30;
  const weights = makeWeights(1);
  const grads = makeGrads(weights, 100);
  const params = [...weights.values()].reduce((n, w) => n + w.size, 0);

  const ours = new AdamW(weights, { weightDecay: 0.1, beta2: 0.99 });
  const oursMs = timeIt(steps, () => {
    const { grads: clipped } = clipGradNorm(grads, 1);
    ours.apply(clipped, 1e-3);
    disposeAll(clipped);
  });

  const baselineWeights = makeWeights(1);
  const byVariable = [...baselineWeights].map(([name, w]) => ({ name: w.name, tensor: grads[name] }));
  const baseline = tf.train.adam(1e-3, 0.9, 0.99, 1e-8);
  const baselineMs = timeIt(steps, () => baseline.applyGradients(byVariable));

  const hashAfter = (): string => {
    const w = makeWeights(7);
    const opt = new AdamW(w, { weightDecay: 0.1 });
    for (let i = 0; i < 5; i++) opt.apply(grads, 1e-3);
    const h = weightsHash(w);
    opt.dispose();
    w.forEach((v) => v.dispose());
    return h;
  };
  const deterministic = hashAfter() === hashAfter();

  console.log(
    `backend ${tf.getBackend()}, ${weights.size} weight tensors, ${params} parameters, ${steps} steps`,
  );
  console.log(`AdamW+clip (ours): ${oursMs.toFixed(2)} ms/step`);
  console.log(`tf.train.adam (baseline, no decay/clip): ${baselineMs.toFixed(2)} ms/step`);
  console.log(
    `ratio ours/baseline time: ${(oursMs / baselineMs).toFixed(2)}x; deterministic across runs: ${deterministic}`,
  );
  console.log(`peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
