import { disposeAll, SftTrainer, TransformerPolicy, type SftStepPlan } from '@recon/policy';
import {
  gradientBufferBytes,
  gradientLayout,
  accumulateGradients,
  writeGradients,
  type GradientLayout,
} from './gradient-layout';
import { checkTrainingPass } from './heap-guard';
import type { SftApplyReply, SftGradientsReply, SftOpen, WeightArrays } from './protocol';
import { assignWeights, weightArrays } from './weight-arrays';

/**
 * One worker's full copy of an SFT run: model, AdamW state and data cursor. Every replica plans the same
 * step; each computes the gradients of its own micro-batches (k mod workers) into the shared buffer, then
 * every replica sums all micro-batches in index order and applies the same update, so replicas stay
 * bit-identical and equal one replica doing every micro-batch itself.
 */
export class SftReplica {
  private readonly model: TransformerPolicy;
  private readonly trainer: SftTrainer;
  private readonly layout: GradientLayout;
  private plan: SftStepPlan | null = null;

  constructor(private readonly open: SftOpen) {
    this.model = new TransformerPolicy(open.model);
    try {
      assignWeights(this.model, open.weights);
      this.trainer = new SftTrainer(this.model, open.examples, open.trainer);
      if (open.state) this.trainer.setState(open.state);
    } catch (error) {
      this.model.dispose();
      throw error;
    }
    this.layout = gradientLayout(this.model.trainableWeights());
  }

  get parameters(): number {
    return this.layout.floats;
  }

  gradients(): SftGradientsReply {
    if (this.plan) throw new Error('sft.gradients: the previous step was not applied');
    const plan = this.trainer.planStep(this.open.split);
    const needed = gradientBufferBytes(this.layout, plan.microBatches.length);
    if (needed > this.open.gradients.byteLength)
      throw new Error(
        `sft.gradients: ${plan.microBatches.length} micro-batches need ${needed} bytes of gradients`,
      );
    for (let k = this.open.worker; k < plan.microBatches.length; k += this.open.workers) {
      const sequences = plan.microBatches[k];
      checkTrainingPass(`SFT step ${this.trainer.step + 1}, micro-batch ${k}`, this.model.config, {
        rows: sequences.length,
        length: Math.max(...sequences.map((s) => s.tokens.length - 1)),
      });
    }
    this.plan = plan;
    const losses: Array<[number, number]> = [];
    for (let k = this.open.worker; k < plan.microBatches.length; k += this.open.workers) {
      const { value, grads } = this.trainer.microBatchGradients(plan.microBatches[k], plan.tokens);
      try {
        writeGradients(this.open.gradients, this.layout, k, grads);
      } finally {
        disposeAll(grads);
      }
      losses.push([k, value]);
    }
    return {
      losses,
      microBatches: plan.microBatches.length,
      tokens: plan.tokens,
      sequences: plan.microBatches.reduce((n, b) => n + b.length, 0),
    };
  }

  /** Call once every worker has answered `gradients` for this step. */
  apply(): SftApplyReply {
    const plan = this.plan;
    if (!plan) throw new Error('sft.apply: no step planned');
    this.plan = null;
    const accumulator = accumulateGradients(this.open.gradients, this.layout, plan.microBatches.length);
    const update = this.trainer.applyGradients(accumulator);
    const metrics = this.trainer.stepMetrics(plan, 0, update, 0);
    return {
      step: metrics.step,
      learningRate: update.learningRate,
      gradNorm: update.gradNorm,
      epoch: metrics.epoch,
    };
  }

  state() {
    return { weights: weightArrays(this.model) as WeightArrays, trainer: this.trainer.getState() };
  }

  dispose(): void {
    this.trainer.dispose();
    this.model.dispose();
  }
}
