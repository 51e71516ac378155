import { randomInt } from 'node:crypto';
import { z } from 'zod';
import type { ChatTurn } from '@recon/policy';
import { promptTokens } from '@recon/policy-runtime';
import type { ChatPolicy } from './chat-policy';
import { OpenAiError } from './openai-error';
import type { ChoiceSampling } from './sample-choices';

const textPart = z.strictObject(
  { type: z.literal('text'), text: z.string() },
  { error: 'only text parts ({ type: "text", text }) are supported' },
);

const message = z.strictObject({
  role: z.enum(['developer', 'system', 'user', 'assistant'], {
    error: 'expected developer, system, user or assistant (tools are not supported)',
  }),
  content: z.union([z.string(), z.array(textPart)], { error: 'expected a string or an array of text parts' }),
  /** A participant name: accepted, not used. */
  name: z.string().optional(),
});

/** The part of OpenAI's chat-completions request a built-in policy honours. */
export const chatCompletionRequestSchema = z.strictObject({
  model: z.string().min(1).optional(),
  messages: z.array(message).min(1),
  temperature: z.number().min(0).max(2).optional(),
  top_p: z.number().gt(0).max(1).optional(),
  max_tokens: z.number().int().min(1).optional(),
  max_completion_tokens: z.number().int().min(1).optional(),
  seed: z.number().int().min(0).optional(),
  stop: z.union([z.string().min(1), z.array(z.string().min(1)).max(4)]).optional(),
  n: z.number().int().min(1).max(8).optional(),
  stream: z.boolean().optional(),
  stream_options: z.strictObject({ include_usage: z.boolean().optional() }).optional(),
});
export type ChatCompletionRequest = z.infer<typeof chatCompletionRequestSchema>;

/** OpenAI parameters that change nothing a built-in policy returns: accepted and not used. */
const WITHOUT_EFFECT = new Set([
  'user',
  'metadata',
  'store',
  'service_tier',
  'safety_identifier',
  'prompt_cache_key',
  'parallel_tool_calls',
]);

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/**
 * OpenAI parameters the server cannot honour, with why; each is accepted only at the value that asks for
 * nothing beyond plain text (`neutral`), and refused otherwise rather than silently ignored.
 */
const UNSUPPORTED: Record<string, { why: string; neutral?: unknown }> = {
  tools: { why: 'a built-in policy cannot call tools', neutral: [] },
  tool_choice: { why: 'a built-in policy cannot call tools', neutral: 'none' },
  functions: { why: 'a built-in policy cannot call functions', neutral: [] },
  function_call: { why: 'a built-in policy cannot call functions', neutral: 'none' },
  response_format: { why: 'structured output is not supported', neutral: { type: 'text' } },
  logprobs: { why: 'log probabilities are not returned', neutral: false },
  top_logprobs: { why: 'log probabilities are not returned', neutral: 0 },
  logit_bias: { why: 'logit bias is not supported', neutral: {} },
  frequency_penalty: { why: 'penalties are not supported', neutral: 0 },
  presence_penalty: { why: 'penalties are not supported', neutral: 0 },
  modalities: { why: 'only text is generated', neutral: ['text'] },
  audio: { why: 'only text is generated' },
  prediction: { why: 'predicted outputs are not supported' },
  reasoning_effort: { why: 'reasoning effort is not supported' },
  verbosity: { why: 'verbosity is not supported' },
  web_search_options: { why: 'web search is not supported' },
};

/**
 * Parses a chat-completions request. Parameters are checked by name first: unknown ones and those the
 * policy cannot honour are refused (HTTP 400, naming the parameter); a null value counts as absent, as in
 * OpenAI's API.
 */
export function parseChatCompletionRequest(body: unknown): ChatCompletionRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw new OpenAiError(400, 'the request body must be a JSON object', null);
  const honoured = chatCompletionRequestSchema.shape;
  const request: Record<string, unknown> = {};
  for (const [param, value] of Object.entries(body)) {
    if (value === null || WITHOUT_EFFECT.has(param)) continue;
    const unsupported = UNSUPPORTED[param];
    if (unsupported) {
      if ('neutral' in unsupported && same(value, unsupported.neutral)) continue;
      throw new OpenAiError(
        400,
        `unsupported parameter '${param}': ${unsupported.why} (recon serve refuses it rather than ignore it)`,
        param,
        'unsupported_parameter',
      );
    }
    if (!Object.hasOwn(honoured, param))
      throw new OpenAiError(400, `unknown parameter '${param}'`, param, 'unknown_parameter');
    request[param] = value;
  }
  const result = chatCompletionRequestSchema.safeParse(request);
  if (!result.success) {
    const issue = result.error.issues[0];
    const path = [...issue.path];
    // An unknown key inside an object (a message, stream_options) is named by its own path.
    if (issue.code === 'unrecognized_keys') path.push(issue.keys[0]);
    const param = path.map(String).join('.') || null;
    throw new OpenAiError(400, `${param ?? 'body'}: ${issue.message}`, param);
  }
  if (result.data.stream_options && !result.data.stream)
    throw new OpenAiError(400, "'stream_options' is only allowed when 'stream' is true", 'stream_options');
  return result.data;
}

/**
 * The completion budget for a context: the requested max tokens (default: what the context leaves), but
 * never so many that less than half the context remains for the prompt.
 */
export function completionBudget(
  context: number,
  promptLength: number,
  requested: number | undefined,
): number {
  const reserved = Math.min(promptLength, Math.floor(context / 2));
  return Math.max(1, Math.min(requested ?? context, context - Math.max(reserved, 2)));
}

/** The messages as chat turns of the policy's template; `developer` is OpenAI's newer name for `system`. */
export function chatTurns(request: ChatCompletionRequest): ChatTurn[] {
  return request.messages.map((m) => ({
    role: m.role === 'developer' ? 'system' : m.role,
    content: typeof m.content === 'string' ? m.content : m.content.map((p) => p.text).join(''),
  }));
}

/**
 * The turns cut from the left to the last characters that can matter for a context of `context` tokens:
 * a token stands for at most `longestTokenChars` characters (UTF-16 units), so the prompt's last `context`
 * tokens lie within that many characters (a margin covers the cut's own neighbourhood). The prompt is then
 * shortened to its token budget; cutting first keeps a long prompt's encoding proportional to the context
 * rather than to the request.
 */
export function clipTurns(
  turns: readonly ChatTurn[],
  longestTokenChars: number,
  context: number,
): ChatTurn[] {
  let room = context * longestTokenChars + 1024;
  const kept: ChatTurn[] = [];
  for (let i = turns.length - 1; i >= 0 && room > 0; i--) {
    const { role, content } = turns[i];
    kept.push({ role, content: content.length > room ? content.slice(content.length - room) : content });
    room -= content.length;
  }
  return kept.reverse();
}

/**
 * What to sample for a request: its prompt (clipped, then shortened from the left to what the context leaves
 * after the completion budget, as the evaluation service does) and its sampling settings.
 */
export function samplingFor(policy: ChatPolicy, request: ChatCompletionRequest): ChoiceSampling {
  const { model, chat } = policy;
  const context = model.config.context;
  const turns = clipTurns(chatTurns(request), policy.longestTokenChars(), context);
  const promptLength = chat.encodeChat(turns, { addGenerationPrompt: true }).length;
  const maxTokens = completionBudget(
    context,
    promptLength,
    request.max_completion_tokens ?? request.max_tokens,
  );
  return {
    promptIds: promptTokens(chat, turns, context, maxTokens).ids,
    n: request.n ?? 1,
    seed: request.seed ?? randomInt(2 ** 31),
    temperature: request.temperature ?? 1,
    topP: request.top_p ?? 1,
    maxTokens,
    stop: request.stop === undefined ? [] : typeof request.stop === 'string' ? [request.stop] : request.stop,
  };
}
