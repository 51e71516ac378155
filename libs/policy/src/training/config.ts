import { z } from 'zod';

/** GRPO options, named after TRL's GRPOConfig (camelCase). */
export const grpoConfigSchema = z
  .object({
    numGenerations: z.number().int().min(1),
    /** Coefficient of the k3 KL term in the loss; 0 disables the reference policy entirely. */
    beta: z.number().min(0).default(0),
    /** Lower clip range; also the upper one unless `epsilonHigh` is set. */
    epsilon: z.number().positive().default(0.2),
    epsilonHigh: z.number().positive().optional(),
    lossType: z.enum(['grpo', 'bnpo', 'dr_grpo', 'dapo']).default('dapo'),
    scaleRewards: z.enum(['group', 'batch', 'none']).default('group'),
    /** Added to the std before dividing (TRL hard-codes 1e-4). */
    advantageEpsilon: z.number().min(0).default(1e-4),
    /** torch.std default (Bessel-corrected); false divides by n. */
    unbiasedStd: z.boolean().default(true),
    /** Needed by `dr_grpo`, which divides by rows * maxCompletionLength. */
    maxCompletionLength: z.number().int().positive().optional(),
    numIterations: z.number().int().min(1).default(1),
    /** Weight per reward component id; components missing here get weight 1. */
    rewardWeights: z.record(z.string(), z.number()).default({}),
  })
  .refine((c) => c.lossType !== 'dr_grpo' || c.maxCompletionLength !== undefined, {
    message: 'lossType dr_grpo needs maxCompletionLength',
    path: ['maxCompletionLength'],
  });
export type GrpoConfig = z.output<typeof grpoConfigSchema>;
export type GrpoConfigInput = z.input<typeof grpoConfigSchema>;

export const lrScheduleSchema = z
  .object({
    type: z.enum(['constant', 'linear', 'cosine']).default('linear'),
    learningRate: z.number().positive(),
    totalSteps: z.number().int().positive(),
    warmupSteps: z.number().int().min(0).optional(),
    warmupRatio: z.number().min(0).max(1).optional(),
  })
  .refine((s) => s.warmupSteps === undefined || s.warmupRatio === undefined, {
    message: 'give warmupSteps or warmupRatio, not both',
    path: ['warmupRatio'],
  });
export type LrScheduleConfig = z.output<typeof lrScheduleSchema>;
export type LrScheduleInput = z.input<typeof lrScheduleSchema>;

export const adamWSchema = z.object({
  beta1: z.number().min(0).lt(1).default(0.9),
  beta2: z.number().min(0).lt(1).default(0.999),
  eps: z.number().positive().default(1e-8),
  weightDecay: z.number().min(0).default(0),
  /** Names of weights excluded from decay (HF Trainer excludes biases and norm weights). */
  noDecayPattern: z.string().default('(^|[./_])(bias|b)$|norm|ln'),
});
export type AdamWConfig = z.output<typeof adamWSchema>;
export type AdamWConfigInput = z.input<typeof adamWSchema>;

/** Parses with zod and turns issues into one readable error naming the field. */
export function parseConfig<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
  const result = schema.safeParse(value);
  if (!result.success) {
    const details = result.error.issues
      .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
      .join('; ');
    throw new Error(`invalid ${what}: ${details}`);
  }
  return result.data;
}
