import { z } from 'zod';

/** The linear layers LoRA can adapt, by their Hugging Face module names (what PEFT's target_modules says). */
export const PROJECTIONS = {
  q_proj: { block: 'attn' },
  k_proj: { block: 'attn' },
  v_proj: { block: 'attn' },
  o_proj: { block: 'attn' },
  gate_proj: { block: 'mlp' },
  up_proj: { block: 'mlp' },
  down_proj: { block: 'mlp' },
} as const;
export type Projection = keyof typeof PROJECTIONS;
export const PROJECTION_NAMES = Object.keys(PROJECTIONS) as Projection[];

export const loraSettingsSchema = z.strictObject({
  rank: z.number().int().positive().default(16),
  alpha: z.number().positive().default(32),
  /**
   * PEFT's lora_dropout, recorded in the exported adapter_config.json. Only 0 trains here: a dropout mask
   * would have to be part of the recorded, replayable state, which it is not yet.
   */
  dropout: z
    .number()
    .min(0)
    .max(0, {
      message: 'LoRA dropout > 0 is not supported yet (it would make replay depend on unrecorded masks)',
    })
    .default(0),
  targets: z
    .array(z.enum(PROJECTION_NAMES as [Projection, ...Projection[]]))
    .min(1)
    .refine((t) => new Set(t).size === t.length, { message: 'each target may appear once' })
    .default(['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj']),
});
export type LoraSettings = z.output<typeof loraSettingsSchema>;
export type LoraSettingsInput = z.input<typeof loraSettingsSchema>;
