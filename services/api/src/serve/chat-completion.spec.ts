import { trainTokenizer } from '@recon/policy';
import { chatTurns, clipTurns, completionBudget, parseChatCompletionRequest } from './chat-completion';
import { OpenAiError } from './openai-error';

const user = { role: 'user', content: 'x' };

/** The OpenAI error a refused request gets: status, param, code and message. */
function refused(body: unknown) {
  try {
    parseChatCompletionRequest(body);
  } catch (error) {
    expect(error).toBeInstanceOf(OpenAiError);
    const { status, param, code, message } = error as OpenAiError;
    return { status, param, code, message };
  }
  throw new Error('accepted');
}

describe('chat completions of a built-in policy', () => {
  it('accepts OpenAI requests: text parts, stop as a string, developer messages, streaming', () => {
    const request = parseChatCompletionRequest({
      model: 'x',
      messages: [
        { role: 'developer', content: 'Be brief.' },
        { role: 'system', content: 'Answer in one word.' },
        {
          role: 'user',
          name: 'alice',
          content: [
            { type: 'text', text: 'Price' },
            { type: 'text', text: '?' },
          ],
        },
      ],
      stop: '\n',
      stream: true,
      stream_options: { include_usage: true },
    });
    expect(chatTurns(request)).toEqual([
      { role: 'system', content: 'Be brief.' },
      { role: 'system', content: 'Answer in one word.' },
      { role: 'user', content: 'Price?' },
    ]);
    expect(request).toMatchObject({ stream: true, stream_options: { include_usage: true } });
  });

  it('accepts parameters without effect, neutral values and nulls as absent', () => {
    const request = parseChatCompletionRequest({
      messages: [user],
      user: 'u-1',
      metadata: { k: 'v' },
      store: false,
      presence_penalty: 0,
      frequency_penalty: 0,
      logprobs: false,
      tools: [],
      tool_choice: 'none',
      response_format: { type: 'text' },
      stop: null,
      seed: null,
    });
    expect(request).toEqual({ messages: [user] });
  });

  it('refuses parameters it cannot honour with 400 naming them, rather than ignoring them', () => {
    const tool = { type: 'function', function: { name: 'f', parameters: {} } };
    const cases: Array<[Record<string, unknown>, string, RegExp]> = [
      [{ tools: [tool] }, 'tools', /^unsupported parameter 'tools': a built-in policy cannot call tools/],
      [{ response_format: { type: 'json_object' } }, 'response_format', /structured output is not supported/],
      [{ logprobs: true }, 'logprobs', /log probabilities are not returned/],
      [{ presence_penalty: 0.5 }, 'presence_penalty', /penalties are not supported/],
      [{ audio: { voice: 'alloy', format: 'mp3' } }, 'audio', /only text is generated/],
    ];
    for (const [extra, param, message] of cases) {
      const error = refused({ messages: [user], ...extra });
      expect(error).toMatchObject({ status: 400, param, code: 'unsupported_parameter' });
      expect(error.message).toMatch(message);
    }
    expect(refused({ messages: [user], top_k: 5 })).toEqual({
      status: 400,
      param: 'top_k',
      code: 'unknown_parameter',
      message: "unknown parameter 'top_k'",
    });
  });

  it('names the field of an invalid request', () => {
    expect(refused({ messages: [] }).param).toBe('messages');
    expect(refused({ messages: [{ role: 'tool', content: 'x' }] }).param).toBe('messages.0.role');
    expect(refused({ messages: [{ role: 'assistant', content: 'x', tool_calls: [] }] }).param).toBe(
      'messages.0.tool_calls',
    );
    expect(refused({ messages: [user], temperature: -1 }).param).toBe('temperature');
    expect(refused({ messages: [user], stream_options: { include_usage: true } })).toMatchObject({
      param: 'stream_options',
      message: "'stream_options' is only allowed when 'stream' is true",
    });
    expect(refused({ messages: [user], stream: true, stream_options: { extra: 1 } }).param).toBe(
      'stream_options.extra',
    );
    expect(refused(null)).toMatchObject({ status: 400, param: null });
    expect(refused([user]).message).toBe('the request body must be a JSON object');
  });

  it('gives the completion what the context leaves, keeping at least half of it for a long prompt', () => {
    expect(completionBudget(256, 40, 100)).toBe(100);
    expect(completionBudget(256, 40, undefined)).toBe(216);
    expect(completionBudget(256, 40, 6144)).toBe(216);
    expect(completionBudget(256, 1000, 6144)).toBe(128); // the prompt is shortened to 128
    expect(completionBudget(256, 1, 6144)).toBe(254);
    expect(completionBudget(4, 3, 10)).toBe(2);
  });

  it('clips a long conversation from the left to what a context can hold, keeping the last turns whole', () => {
    const tokenizer = trainTokenizer({ corpus: ['Alice and Bob choose A or B.'], vocabSize: 270 });
    let longest = 1;
    for (let id = 0; id < tokenizer.vocabSize; id++)
      longest = Math.max(longest, tokenizer.bytesOf(id).length);
    const room = 96 * longest + 1024;
    const turns = [
      { role: 'system' as const, content: 'S'.repeat(10) },
      { role: 'user' as const, content: 'a'.repeat(200_000) },
      { role: 'assistant' as const, content: 'ok' },
      { role: 'user' as const, content: 'last' },
    ];
    const clipped = clipTurns(turns, longest, 96);
    expect(clipped.map((t) => t.role)).toEqual(['user', 'assistant', 'user']);
    expect(clipped.map((t) => t.content.length)).toEqual([room - 6, 2, 4]);
    const short = turns.map((t) => ({ ...t, content: t.content.slice(0, 20) }));
    expect(clipTurns(short, longest, 96)).toEqual(short);
  });
});
