import { LrScheduleInput, lrScheduleSchema, parseConfig } from './config';

/**
 * Learning rate for optimiser step `step` (0-based), as transformers' get_linear_schedule_with_warmup and
 * get_cosine_schedule_with_warmup (half a cosine) define it. As in the HF Trainer, the first update uses
 * the factor at step 0, which is 0 when there is warmup. warmupRatio -> ceil(ratio * totalSteps) steps.
 */
export class LrSchedule {
  readonly warmupSteps: number;
  private readonly config;

  constructor(input: LrScheduleInput) {
    this.config = parseConfig(lrScheduleSchema, input, 'learning-rate schedule');
    this.warmupSteps =
      this.config.warmupSteps ?? Math.ceil((this.config.warmupRatio ?? 0) * this.config.totalSteps);
  }

  factor(step: number): number {
    if (!Number.isInteger(step) || step < 0)
      throw new Error(`LrSchedule: step must be an integer >= 0, got ${step}`);
    const { type, totalSteps } = this.config;
    const warmup = this.warmupSteps;
    if (step < warmup) return step / Math.max(1, warmup);
    if (type === 'constant') return 1;
    if (type === 'linear') return Math.max(0, (totalSteps - step) / Math.max(1, totalSteps - warmup));
    const progress = (step - warmup) / Math.max(1, totalSteps - warmup);
    return Math.max(0, 0.5 * (1 + Math.cos(Math.PI * progress)));
  }

  learningRate(step: number): number {
    return this.config.learningRate * this.factor(step);
  }
}
