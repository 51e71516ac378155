import { z } from 'zod';

export const LORA_TARGETS = ['q', 'k', 'v', 'o', 'up', 'down'] as const;
export type LoraTarget = (typeof LORA_TARGETS)[number];

export const transformerConfigSchema = z
  .strictObject({
    vocabSize: z.number().int().min(2),
    dModel: z.number().int().min(2),
    layers: z.number().int().min(1),
    heads: z.number().int().min(1),
    /** Maximum sequence length (learned positions). */
    context: z.number().int().min(2),
    /** MLP hidden width = mlpRatio * dModel. */
    mlpRatio: z.number().int().min(1).default(4),
    tieEmbeddings: z.boolean().default(false),
    seed: z.number().int().min(0),
    lora: z
      .strictObject({
        rank: z.number().int().min(1),
        alpha: z.number().positive(),
        targets: z.array(z.enum(LORA_TARGETS)).min(1).default(['q', 'v']),
      })
      .optional(),
  })
  .refine((c) => c.dModel % c.heads === 0, { message: 'dModel must be divisible by heads', path: ['heads'] });

export type TransformerConfig = z.output<typeof transformerConfigSchema>;
export type TransformerConfigInput = z.input<typeof transformerConfigSchema>;

export function parseTransformerConfig(value: unknown): TransformerConfig {
  const result = transformerConfigSchema.safeParse(value);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new Error(`transformer config: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  return result.data;
}

/** Number of weights in the base model (adapters excluded). */
export function parameterCount(c: TransformerConfig): number {
  const d = c.dModel;
  const hidden = c.mlpRatio * d;
  const perLayer =
    4 * d * d + 4 * d /* attn weights + biases */ + 2 * d * hidden + hidden + d + 4 * d; /* 2 norms */
  return (
    c.vocabSize * d + c.context * d + c.layers * perLayer + 2 * d + (c.tieEmbeddings ? 0 : d * c.vocabSize)
  );
}
