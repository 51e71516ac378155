import { ensureGradientsRegistered } from './tfjs-gradients';

ensureGradientsRegistered();
import * as tf from '@tensorflow/tfjs-core';
import { AdamWConfig, AdamWConfigInput, adamWSchema, parseConfig } from './config';

export type NamedTensors = Record<string, tf.Tensor>;

/** Serialisable optimiser state: step count and both moments per weight name. */
export interface AdamWState {
  step: number;
  moments: Record<string, { shape: number[]; m: Float32Array; v: Float32Array }>;
}

/**
 * AdamW exactly as torch.optim.AdamW: decoupled decay p *= 1 - lr*wd, then
 * p -= lr/bc1 * m / (sqrt(v)/sqrt(bc2) + eps) with bias corrections bc_i = 1 - beta_i^step.
 * Weights whose name matches `noDecayPattern` are not decayed.
 */
export class AdamW {
  readonly config: AdamWConfig;
  private stepCount = 0;
  private readonly m = new Map<string, tf.Variable>();
  private readonly v = new Map<string, tf.Variable>();
  private readonly noDecay: RegExp;

  constructor(
    private readonly params: ReadonlyMap<string, tf.Variable>,
    config: AdamWConfigInput = {},
  ) {
    this.config = parseConfig(adamWSchema, config, 'AdamW config');
    this.noDecay = new RegExp(this.config.noDecayPattern, 'i');
    // The tidy frees the zeros each variable starts from (a variable keeps its own reference to the data).
    tf.tidy(() => {
      for (const [name, p] of params) {
        this.m.set(name, tf.variable(tf.zerosLike(p), false));
        this.v.set(name, tf.variable(tf.zerosLike(p), false));
      }
    });
  }

  get step(): number {
    return this.stepCount;
  }

  decays(name: string): boolean {
    return this.config.weightDecay > 0 && !this.noDecay.test(name);
  }

  /** One update with learning rate `lr`. Every trainable weight must have a gradient. */
  apply(grads: NamedTensors, lr: number): void {
    for (const name of Object.keys(grads)) {
      if (!this.params.has(name)) throw new Error(`AdamW.apply: gradient for unknown weight "${name}"`);
    }
    this.stepCount += 1;
    const { beta1, beta2, eps, weightDecay } = this.config;
    const bc1 = 1 - Math.pow(beta1, this.stepCount);
    const bc2 = 1 - Math.pow(beta2, this.stepCount);
    for (const [name, p] of this.params) {
      const g = grads[name];
      if (!g) throw new Error(`AdamW.apply: no gradient for weight "${name}"`);
      const m = this.m.get(name) as tf.Variable;
      const v = this.v.get(name) as tf.Variable;
      tf.tidy(() => {
        const decayed = this.decays(name) ? tf.mul(p, 1 - lr * weightDecay) : p;
        const mNext = tf.add(tf.mul(m, beta1), tf.mul(g, 1 - beta1));
        const vNext = tf.add(tf.mul(v, beta2), tf.mul(tf.square(g), 1 - beta2));
        const denom = tf.add(tf.div(tf.sqrt(vNext), Math.sqrt(bc2)), eps);
        m.assign(mNext);
        v.assign(vNext);
        p.assign(tf.sub(decayed, tf.mul(tf.div(mNext, denom), lr / bc1)));
      });
    }
  }

  getState(): AdamWState {
    const moments: AdamWState['moments'] = {};
    for (const name of [...this.params.keys()].sort()) {
      const m = this.m.get(name) as tf.Variable;
      const v = this.v.get(name) as tf.Variable;
      moments[name] = {
        shape: [...m.shape],
        m: m.dataSync() as Float32Array,
        v: v.dataSync() as Float32Array,
      };
    }
    return { step: this.stepCount, moments };
  }

  setState(state: AdamWState): void {
    const expected = [...this.params.keys()].sort();
    const given = Object.keys(state.moments).sort();
    if (expected.join('\n') !== given.join('\n')) {
      const missing = expected.filter((n) => !(n in state.moments));
      const extra = given.filter((n) => !this.params.has(n));
      throw new Error(
        `AdamW.setState: weights differ (missing: ${missing.join(', ') || '-'}; unknown: ${extra.join(', ') || '-'})`,
      );
    }
    for (const name of expected) {
      const { shape, m, v } = state.moments[name];
      const target = this.m.get(name) as tf.Variable;
      if (shape.join(',') !== target.shape.join(',')) {
        throw new Error(`AdamW.setState: "${name}" has shape [${shape}], weight has [${target.shape}]`);
      }
      tf.tidy(() => {
        target.assign(tf.tensor(m, shape, 'float32'));
        (this.v.get(name) as tf.Variable).assign(tf.tensor(v, shape, 'float32'));
      });
    }
    this.stepCount = state.step;
  }

  dispose(): void {
    for (const t of [...this.m.values(), ...this.v.values()]) t.dispose();
  }
}

/**
 * torch.nn.utils.clip_grad_norm_: total = sqrt(sum of squared norms); if maxNorm/(total+1e-6) < 1 every
 * gradient is scaled by it. Returns new tensors (inputs untouched) and the norm before clipping.
 */
export function clipGradNorm(
  grads: NamedTensors,
  maxNorm: number | undefined,
): { grads: NamedTensors; norm: number } {
  const names = Object.keys(grads).sort();
  const norm = Math.sqrt(tf.tidy(() => tf.addN(names.map((n) => tf.sum(tf.square(grads[n])))).dataSync()[0]));
  const coefficient = maxNorm === undefined ? 1 : maxNorm / (norm + 1e-6);
  const clipped: NamedTensors = {};
  for (const n of names) clipped[n] = coefficient < 1 ? tf.mul(grads[n], coefficient) : tf.clone(grads[n]);
  return { grads: clipped, norm };
}

/** Sums gradients of several micro-batches (each loss already scaled for accumulation). */
export class GradientAccumulator {
  private sums: NamedTensors = {};
  private count = 0;

  add(grads: NamedTensors): void {
    for (const [name, g] of Object.entries(grads)) {
      const previous = this.sums[name];
      this.sums[name] = previous ? tf.add(previous, g) : tf.clone(g);
      previous?.dispose();
    }
    this.count += 1;
  }

  get microBatches(): number {
    return this.count;
  }

  /** Returns the sums and resets; the caller owns the returned tensors. */
  take(): NamedTensors {
    const out = this.sums;
    this.sums = {};
    this.count = 0;
    return out;
  }
}

/**
 * The update that ends a training step: the micro-batches' summed gradients, clipped to `maxGradNorm`,
 * applied at `learningRate`, then freed. Returns the global gradient norm before clipping.
 */
export function applyAccumulated(
  optimizer: AdamW,
  accumulator: GradientAccumulator,
  maxGradNorm: number | undefined,
  learningRate: number,
): number {
  const summed = accumulator.take();
  const { grads, norm } = clipGradNorm(summed, maxGradNorm);
  disposeAll(summed);
  optimizer.apply(grads, learningRate);
  disposeAll(grads);
  return norm;
}

export function disposeAll(tensors: NamedTensors): void {
  for (const t of Object.values(tensors)) t.dispose();
}
