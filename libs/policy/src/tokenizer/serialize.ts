import { z } from 'zod';
import { PRETOKENIZE_PATTERN, PRETOKENIZERS } from './pretokenize';
import { FIRST_MERGE_ID, SPECIAL_TOKENS, isSpecialId } from './special-tokens';

export const TOKENIZER_FORMAT = 'recon-byte-bpe/1';

const tokenId = z.number().int().nonnegative();

const serializedSchema = z.strictObject({
  format: z.literal(TOKENIZER_FORMAT),
  pretokenizePattern: z.union([z.literal(PRETOKENIZE_PATTERN), z.literal(PRETOKENIZERS.phrases)]),
  specialTokens: z.array(z.string()),
  merges: z.array(z.tuple([tokenId, tokenId])),
});

export type SerializedTokenizer = z.infer<typeof serializedSchema>;

export class TokenizerFormatError extends Error {
  constructor(
    readonly field: string,
    reason: string,
  ) {
    super(`invalid serialised tokenizer: ${field}: ${reason}`);
    this.name = 'TokenizerFormatError';
  }
}

/** Validates shape (zod) and meaning: special tokens as this build defines them, every merge well-founded. */
export function parseSerializedTokenizer(value: unknown): SerializedTokenizer {
  const parsed = serializedSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new TokenizerFormatError(issue.path.join('.') || '(root)', issue.message);
  }
  const data = parsed.data;
  if (
    data.specialTokens.length !== SPECIAL_TOKENS.length ||
    data.specialTokens.some((t, i) => t !== SPECIAL_TOKENS[i])
  ) {
    throw new TokenizerFormatError('specialTokens', `must be exactly ${JSON.stringify(SPECIAL_TOKENS)}`);
  }
  const seen = new Set<string>();
  data.merges.forEach(([a, b], i) => {
    const limit = FIRST_MERGE_ID + i;
    for (const [side, id] of [
      [0, a],
      [1, b],
    ] as const) {
      if (id >= limit)
        throw new TokenizerFormatError(
          `merges.${i}.${side}`,
          `id ${id} is not defined before merge ${i} (ids must be < ${limit})`,
        );
      if (isSpecialId(id))
        throw new TokenizerFormatError(
          `merges.${i}.${side}`,
          `id ${id} is a special token and cannot be merged`,
        );
    }
    const key = `${a},${b}`;
    if (seen.has(key)) throw new TokenizerFormatError(`merges.${i}`, `pair [${a}, ${b}] is merged twice`);
    seen.add(key);
  });
  return data;
}
