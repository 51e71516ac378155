import { chatCompletionsUrl, traceTextOf } from './teacher-client';

describe('teacher client helpers', () => {
  it.each([
    ['http://h:8000', 'http://h:8000/v1/chat/completions'],
    ['http://h:8000/', 'http://h:8000/v1/chat/completions'],
    ['http://h:8000/v1', 'http://h:8000/v1/chat/completions'],
    ['https://api.example/openai/v1/', 'https://api.example/openai/v1/chat/completions'],
  ])('%s -> %s', (base, url) => {
    expect(chatCompletionsUrl(base)).toBe(url);
  });

  it('puts a separate reasoning_content back inside <think> tags, once', () => {
    const body = (content: unknown, reasoning?: string) => ({
      choices: [{ message: { content, reasoning_content: reasoning } }],
    });
    expect(traceTextOf(body('\\boxed{Yes}', 'because'))).toBe('<think>because</think>\\boxed{Yes}');
    expect(traceTextOf(body('<think>a</think>\\boxed{Yes}', 'because'))).toBe('<think>a</think>\\boxed{Yes}');
    expect(traceTextOf(body('<think>a</think>\\boxed{Yes}'))).toBe('<think>a</think>\\boxed{Yes}');
    expect(traceTextOf(body(null))).toBeNull();
    expect(traceTextOf({ error: 'x' })).toBeNull();
    expect(traceTextOf(null)).toBeNull();
  });
});
