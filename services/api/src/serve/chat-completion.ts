import { randomBytes, randomInt } from 'node:crypto';
import { z } from 'zod';
import { generate, type ChatTurn } from '@recon/policy';
import { promptTokens, type LoadedPolicy } from '@recon/policy-runtime';

const textPart = z.object({ type: z.literal('text'), text: z.string() });

/** The subset of OpenAI's chat-completions request a built-in policy can honour; unknown fields are ignored. */
export const chatCompletionRequestSchema = z.object({
  model: z.string().min(1).optional(),
  messages: z
    .array(
      z.object({
        role: z.enum(['system', 'user', 'assistant']),
        content: z.union([z.string(), z.array(textPart)]),
      }),
    )
    .min(1),
  temperature: z.number().min(0).max(2).optional(),
  top_p: z.number().gt(0).max(1).optional(),
  max_tokens: z.number().int().min(1).optional(),
  max_completion_tokens: z.number().int().min(1).optional(),
  seed: z.number().int().min(0).optional(),
  stop: z.union([z.string().min(1), z.array(z.string().min(1)).max(4)]).nullish(),
  n: z.number().int().min(1).max(8).optional(),
  stream: z.literal(false, { message: 'streaming is not supported; send stream: false' }).optional(),
});
export type ChatCompletionRequest = z.infer<typeof chatCompletionRequestSchema>;

/** A request the server refuses, answered as OpenAI does: HTTP 400 with `{ error: { message, type, param } }`. */
export class InvalidChatRequestError extends Error {
  constructor(
    message: string,
    readonly param: string | null,
  ) {
    super(message);
    this.name = 'InvalidChatRequestError';
  }
}

export function parseChatCompletionRequest(body: unknown): ChatCompletionRequest {
  const result = chatCompletionRequestSchema.safeParse(body);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const param = issue.path.map(String).join('.') || null;
  throw new InvalidChatRequestError(`${param ?? 'body'}: ${issue.message}`, param);
}

/**
 * The completion budget and prompt for a context: the requested max tokens (default: what the context
 * leaves), but never so many that less than half the context remains for the prompt; a longer prompt is
 * shortened from the left as the evaluation service does for built-in policies.
 */
export function completionBudget(
  context: number,
  promptLength: number,
  requested: number | undefined,
): number {
  const reserved = Math.min(promptLength, Math.floor(context / 2));
  return Math.max(1, Math.min(requested ?? context, context - Math.max(reserved, 2)));
}

export function chatTurns(request: ChatCompletionRequest): ChatTurn[] {
  return request.messages.map((m) => ({
    role: m.role,
    content: typeof m.content === 'string' ? m.content : m.content.map((p) => p.text).join(''),
  }));
}

/** Answers one chat-completions request with the policy: its chat template, sampler and tokenizer's counts. */
export function completeChat(policy: LoadedPolicy, modelName: string, request: ChatCompletionRequest) {
  const { model, tokenizer } = policy;
  const context = model.config.context;
  const turns = chatTurns(request);
  const fullPrompt = tokenizer.encodeChat(turns, { addGenerationPrompt: true });
  const maxTokens = completionBudget(
    context,
    fullPrompt.length,
    request.max_completion_tokens ?? request.max_tokens,
  );
  const { ids } = promptTokens(tokenizer, turns, context, maxTokens);
  const n = request.n ?? 1;
  const seed = request.seed ?? randomInt(2 ** 31);
  const stop = request.stop == null ? [] : typeof request.stop === 'string' ? [request.stop] : request.stop;
  const completions = generate(
    model,
    tokenizer,
    Array.from({ length: n }, (_, i) => ({ promptIds: ids, seed: seed + i })),
    {
      temperature: request.temperature ?? 1,
      topP: request.top_p ?? 1,
      maxTokens,
      stop,
      stopTokenIds: [tokenizer.specialTokens.eos],
    },
  );
  const completionTokens = completions.reduce((sum, c) => sum + c.tokens.length, 0);
  return {
    id: `chatcmpl-${randomBytes(12).toString('hex')}`,
    object: 'chat.completion' as const,
    created: Math.floor(Date.now() / 1000),
    model: request.model ?? modelName,
    system_fingerprint: policy.checkpointHash.slice(0, 16),
    choices: completions.map((c, index) => ({
      index,
      message: { role: 'assistant' as const, content: c.text },
      finish_reason: c.finishReason,
    })),
    usage: {
      prompt_tokens: ids.length,
      completion_tokens: completionTokens,
      total_tokens: ids.length + completionTokens,
    },
  };
}
