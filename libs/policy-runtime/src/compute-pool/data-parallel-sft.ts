import type {
  SftStepMetrics,
  SftTrainerConfigInput,
  TokenSequence,
  TrainerState,
  TransformerPolicy,
} from '@recon/policy';
import type { ComputePool } from './compute-pool';
import { gradientBufferBytes, gradientLayout } from './gradient-layout';
import type { WeightArrays } from './protocol';
import { weightArrays } from './weight-arrays';

/**
 * Parts each SFT micro-batch is cut into for data parallelism. Fixed, not the worker count: a step's
 * gradient is the sum of the same parts in the same order with one worker or many, so results are
 * bit-identical whatever the pool's size.
 */
export const SFT_MICRO_BATCH_SPLIT = 2;

let sessions = 0;

/**
 * SFT on the pool's workers: each holds a replica of the model, optimiser and data cursor; a step is
 * computed in parallel (one micro-batch part per worker) and applied by every replica identically.
 */
export class DataParallelSft {
  private constructor(
    private readonly pool: ComputePool,
    private readonly session: string,
  ) {}

  /** Replicates `model` (its current weights) and an SftTrainer over `examples` on every worker. */
  static async open(
    pool: ComputePool,
    model: TransformerPolicy,
    examples: readonly TokenSequence[],
    trainer: SftTrainerConfigInput,
    options: { state?: TrainerState; split?: number } = {},
  ): Promise<DataParallelSft> {
    const split = options.split ?? SFT_MICRO_BATCH_SPLIT;
    const microBatches = (trainer.gradientAccumulationSteps ?? 1) * split;
    const gradients = new SharedArrayBuffer(
      gradientBufferBytes(gradientLayout(model.trainableWeights()), microBatches),
    );
    const session = `sft-${process.pid}-${++sessions}`;
    const weights = weightArrays(model);
    const copies = examples.map((e) => ({ tokens: [...e.tokens], completionStart: e.completionStart }));
    const opened = new DataParallelSft(pool, session);
    try {
      await pool.broadcast((worker) => ({
        kind: 'sft.open',
        session,
        model: model.config,
        weights,
        trainer,
        examples: copies,
        state: options.state,
        split,
        worker,
        workers: pool.size,
        gradients,
      }));
    } catch (error) {
      await opened.close();
      throw error;
    }
    return opened;
  }

  async step(): Promise<SftStepMetrics> {
    const started = performance.now();
    const computed = await this.pool.broadcast(() => ({ kind: 'sft.gradients', session: this.session }));
    const losses = new Map(computed.flatMap((c) => c.losses));
    let loss = 0;
    for (let k = 0; k < computed[0].microBatches; k++) {
      const value = losses.get(k);
      if (value === undefined) throw new Error(`SFT: no worker computed micro-batch ${k}`);
      loss += value;
    }
    const applied = await this.pool.broadcast(() => ({ kind: 'sft.apply', session: this.session }));
    const norms = applied.map((a) => a.gradNorm);
    if (norms.some((n) => !Object.is(n, norms[0])))
      throw new Error(`SFT: the workers' replicas diverged (gradient norms ${norms.join(', ')})`);
    const { step, learningRate, gradNorm, epoch } = applied[0];
    return {
      step,
      loss,
      learningRate,
      gradNorm,
      tokens: computed[0].tokens,
      sequences: computed[0].sequences,
      epoch,
      stepTimeMs: performance.now() - started,
    };
  }

  /** Weights and trainer state of worker 0's replica (all replicas are equal). */
  state(): Promise<{ weights: WeightArrays; trainer: TrainerState }> {
    return this.pool.request(0, { kind: 'sft.state', session: this.session });
  }

  async close(): Promise<void> {
    if (this.pool.broken) return;
    await this.pool.broadcast(() => ({ kind: 'close', session: this.session })).catch(() => undefined);
  }
}
