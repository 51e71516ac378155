import {
  grpoStepMetrics,
  type GrpoMicroBatchMetrics,
  type GrpoStepMetrics,
  type GrpoTrainerConfigInput,
  type RolloutGroup,
  type TrainerState,
  type TransformerPolicy,
} from '@recon/policy';
import type { ComputePool } from './compute-pool';
import { gradientBufferBytes, gradientLayout } from './gradient-layout';
import type { GrpoOpen, WeightArrays } from './protocol';
import { weightArrays } from './weight-arrays';

/** Parts each GRPO micro-batch is cut into: fixed (as SFT_MICRO_BATCH_SPLIT), so results ignore the worker count. */
export const GRPO_MICRO_BATCH_SPLIT = 2;

let sessions = 0;

/** GRPO updates on the pool's workers, each holding a replica of the policy, its reference and AdamW. */
export class DataParallelGrpo {
  private constructor(
    private readonly pool: ComputePool,
    private readonly session: string,
    private readonly beta: number,
  ) {}

  /**
   * Replicates `model` (with its adapters when it has them) and a GrpoTrainer on every worker. `reference`:
   * a frozen model whose weights are copied, `adapters-off` for LoRA runs, or none when beta is 0.
   * `maxRows` bounds the completions of a batch (sizes the shared gradient buffer).
   */
  static async open(
    pool: ComputePool,
    model: TransformerPolicy,
    reference: TransformerPolicy | 'adapters-off' | undefined,
    trainer: GrpoTrainerConfigInput,
    options: { maxRows: number; state?: TrainerState; split?: number },
  ): Promise<DataParallelGrpo> {
    const split = options.split ?? GRPO_MICRO_BATCH_SPLIT;
    const microBatches = Math.ceil(options.maxRows / trainer.microBatchSize) * split;
    const gradients = new SharedArrayBuffer(
      gradientBufferBytes(gradientLayout(model.trainableWeights()), microBatches),
    );
    const session = `grpo-${process.pid}-${++sessions}`;
    const referenceContent: GrpoOpen['reference'] =
      reference === undefined
        ? { kind: 'none' }
        : reference === 'adapters-off'
          ? { kind: 'adapters-off' }
          : { kind: 'weights', model: reference.config, weights: weightArrays(reference) };
    const weights = weightArrays(model);
    const opened = new DataParallelGrpo(pool, session, trainer.grpo.beta ?? 0);
    try {
      await pool.broadcast((worker) => ({
        kind: 'grpo.open',
        session,
        model: model.config,
        weights,
        reference: referenceContent,
        trainer,
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

  /** numIterations updates on one batch of rollout groups; one metrics record per update. */
  async train(groups: readonly RolloutGroup[]): Promise<GrpoStepMetrics[]> {
    let started = performance.now();
    const metrics: GrpoStepMetrics[] = [];
    for (let iteration = 0; ; iteration++) {
      const computed = await this.pool.broadcast(() => ({
        kind: 'grpo.gradients',
        session: this.session,
        ...(iteration === 0 ? { groups: groups as RolloutGroup[] } : {}),
      }));
      const byIndex = new Map(computed.flatMap((c) => c.results));
      const micro: GrpoMicroBatchMetrics[] = [];
      for (let k = 0; k < computed[0].microBatches; k++) {
        const m = byIndex.get(k);
        if (!m) throw new Error(`GRPO: no worker computed micro-batch ${k}`);
        micro.push(m);
      }
      const applied = await this.pool.broadcast(() => ({ kind: 'grpo.apply', session: this.session }));
      const norms = applied.map((a) => a.gradNorm);
      if (norms.some((n) => !Object.is(n, norms[0])))
        throw new Error(`GRPO: the workers' replicas diverged (gradient norms ${norms.join(', ')})`);
      const now = performance.now();
      metrics.push(
        grpoStepMetrics(computed[0].rewardStats, this.beta, {
          ...applied[0],
          iteration,
          micro,
          stepTimeMs: now - started,
        }),
      );
      started = now;
      if (iteration + 1 >= computed[0].iterations) return metrics;
    }
  }

  /** Weights and trainer state of worker 0's replica (all replicas are equal). */
  state(): Promise<{ weights: WeightArrays; trainer: TrainerState }> {
    return this.pool.request(0, { kind: 'grpo.state', session: this.session });
  }

  async close(): Promise<void> {
    if (this.pool.broken) return;
    await this.pool.broadcast(() => ({ kind: 'close', session: this.session })).catch(() => undefined);
  }
}
