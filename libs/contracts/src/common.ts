import { z } from 'zod';

export const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, 'expected a sha256 hex digest');
export const runId = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/, 'expected a run id');
export const nonNegativeInt = z.number().int().nonnegative();
export const step = nonNegativeInt;
export const finite = z.number().finite();
/** Named numeric values, e.g. per-step metrics or reward components. */
export const numberMap = z.record(z.string().min(1), finite);
export const jsonObject = z.record(z.string(), z.unknown());
/** The longest completion text an event stores (about 6,144 tokens of any tokenizer fit several times over). */
export const MAX_COMPLETION_CHARS = 262_144;
/**
 * PostgreSQL text and jsonb cannot hold U+0000, and a payload with it would stop every projection at that
 * event; model output may contain it (byte token 0), so producers pass text through `storableText`.
 */
export const storedText = z.string().refine((text) => !text.includes('\u0000'), {
  message: 'contains U+0000, which PostgreSQL cannot store (replace it, e.g. with storableText)',
});
export const completionText = storedText.max(
  MAX_COMPLETION_CHARS,
  `a completion is stored up to ${MAX_COMPLETION_CHARS} characters`,
);

/** Model output made storable: U+0000 becomes U+FFFD (the token ids, when recorded, keep the exact output). */
export function storableText(text: string, maxChars = MAX_COMPLETION_CHARS): string {
  return text.replaceAll('\u0000', '\ufffd').slice(0, maxChars);
}
