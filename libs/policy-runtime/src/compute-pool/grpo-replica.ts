import {
  adaptersOffReference,
  disposeAll,
  disposePrepared,
  GrpoTrainer,
  TransformerPolicy,
  type GrpoStepPlan,
  type PreparedMicroBatch,
  type ReferencePolicy,
  type RolloutGroup,
} from '@recon/policy';
import {
  gradientBufferBytes,
  gradientLayout,
  accumulateGradients,
  writeGradients,
  type GradientLayout,
} from './gradient-layout';
import { checkTrainingPass } from './heap-guard';
import type { GrpoGradientsReply, GrpoOpen } from './protocol';
import { assignWeights, weightArrays } from './weight-arrays';

/** A batch being trained on: its plan, this worker's prepared micro-batches and the iteration reached. */
interface Batch {
  plan: GrpoStepPlan;
  prepared: Map<number, PreparedMicroBatch>;
  iteration: number;
  applied: boolean;
}

/**
 * One worker's full copy of a GRPO run (policy, reference, AdamW): as SftReplica, every replica plans the same
 * batch, computes its own micro-batches (k mod workers) into the shared buffer and applies the same update.
 */
export class GrpoReplica {
  private readonly model: TransformerPolicy;
  private readonly frozen?: TransformerPolicy;
  private readonly trainer: GrpoTrainer;
  private readonly layout: GradientLayout;
  private batch: Batch | null = null;

  constructor(private readonly open: GrpoOpen) {
    this.model = new TransformerPolicy(open.model);
    try {
      assignWeights(this.model, open.weights);
      let reference: ReferencePolicy | undefined;
      if (open.reference.kind === 'adapters-off') reference = adaptersOffReference(this.model);
      else if (open.reference.kind === 'weights') {
        this.frozen = new TransformerPolicy(open.reference.model);
        assignWeights(this.frozen, open.reference.weights);
        reference = this.frozen;
      }
      this.trainer = new GrpoTrainer(this.model, reference, open.trainer);
      if (open.state) this.trainer.setState(open.state);
    } catch (error) {
      this.frozen?.dispose();
      this.model.dispose();
      throw error;
    }
    this.layout = gradientLayout(this.model.trainableWeights());
  }

  get parameters(): number {
    return this.layout.floats;
  }

  gradients(groups: RolloutGroup[] | undefined): GrpoGradientsReply {
    if (groups) this.begin(groups);
    const batch = this.batch;
    if (!batch || batch.iteration >= batch.plan.iterations || !batch.applied)
      throw new Error('grpo.gradients: no batch to compute (send its groups first)');
    batch.applied = false;
    const results: GrpoGradientsReply['results'] = [];
    for (const [k, m] of batch.prepared) {
      const { grads, ...metrics } = this.trainer.microBatchGradients(batch.plan, m);
      try {
        writeGradients(this.open.gradients, this.layout, k, grads);
      } finally {
        disposeAll(grads);
      }
      results.push([k, metrics]);
    }
    return {
      results,
      microBatches: batch.plan.microBatches.length,
      iterations: batch.plan.iterations,
      rewardStats: batch.plan.rewardStats,
    };
  }

  private begin(groups: RolloutGroup[]): void {
    this.end();
    const plan = this.trainer.planStep(groups, this.open.split);
    const needed = gradientBufferBytes(this.layout, plan.microBatches.length);
    if (needed > this.open.gradients.byteLength)
      throw new Error(
        `grpo.gradients: ${plan.microBatches.length} micro-batches need ${needed} bytes of gradients`,
      );
    for (let k = this.open.worker; k < plan.microBatches.length; k += this.open.workers) {
      const rows = plan.microBatches[k].map((i) => plan.rows[i]);
      checkTrainingPass(`GRPO step ${this.trainer.step + 1}, micro-batch ${k}`, this.model.config, {
        rows: rows.length,
        length: Math.max(...rows.map((r) => r.promptIds.length + r.completion.completionIds.length - 1)),
        grpo: true,
      });
    }
    const prepared = new Map<number, PreparedMicroBatch>();
    this.batch = { plan, prepared, iteration: 0, applied: true };
    // Old and reference log-probs of this worker's micro-batches, before the batch's first update.
    for (let k = this.open.worker; k < plan.microBatches.length; k += this.open.workers)
      prepared.set(k, this.trainer.prepareMicroBatch(plan, k));
  }

  /** Call once every worker has answered `gradients` for this iteration. */
  apply(): { step: number; learningRate: number; gradNorm: number } {
    const batch = this.batch;
    if (!batch || batch.applied) throw new Error('grpo.apply: no gradients computed');
    const accumulator = accumulateGradients(this.open.gradients, this.layout, batch.plan.microBatches.length);
    const update = this.trainer.applyGradients(accumulator);
    batch.applied = true;
    batch.iteration += 1;
    if (batch.iteration >= batch.plan.iterations) this.end();
    return { step: this.trainer.step, ...update };
  }

  private end(): void {
    if (!this.batch) return;
    for (const m of this.batch.prepared.values()) disposePrepared(m);
    this.batch = null;
  }

  state() {
    return { weights: weightArrays(this.model), trainer: this.trainer.getState() };
  }

  dispose(): void {
    this.end();
    this.trainer.dispose();
    this.frozen?.dispose();
    this.model.dispose();
  }
}
